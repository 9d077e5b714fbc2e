// The scorecard's front door: every common way to balance gRPC, run on the lab's replicas under either driver and
// scored side by side (`npm run lab -- scorecard`), with its reports.
export { runScorecard, type ScorecardOptions } from './scorecard.js';
export { contenders, type Contender } from './contenders.js';
export { formatScorecardText } from './report-text.js';
export { formatScorecardHtml } from './report-html.js';
export { judgeLessons, type ContenderScore, type Lesson, type ScorecardReport } from './score.js';
export { BALANCER_IMAGES } from './docker-site.js';
export { CONFIG_FILES, deriveLocalHaproxyConfig, deriveLocalNginxConfig, featureLine, type Feature } from './balancer-configs.js';
export { findTool } from './local-tools.js';
