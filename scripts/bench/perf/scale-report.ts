// The scale measurement as a markdown table and an HTML page of bar charts (start time and memory per count).
import { barChart, digits, escape } from './perf-report.js';
import type { ScaleStep } from './scale-run.js';

export function scaleMarkdownOf(steps: ScaleStep[]): string {
  const lines = [
    '| replicas | ready (all healthy in Envoy) | all replicas, RSS | largest replica | Envoy | npm start |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const s of steps) {
    lines.push(`| ${s.replicas} | ${(s.readyMs / 1000).toFixed(1)} s | ${digits(s.replicasMb)} MB | ${digits(s.largestReplicaMb)} MB | ${digits(s.envoyMb)} MB | ${digits(s.supervisorMb)} MB |`);
  }
  return lines.join('\n');
}

export function scaleHtmlOf(steps: ScaleStep[], heading: string): string {
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>grpc-envoy-lab: npm start from 1 to N replicas</title>',
    '<style>body{font-family:sans-serif;max-width:720px;margin:2em auto}pre{white-space:pre-wrap;font-size:12px}</style></head><body>',
    `<h1>npm start from ${steps[0]?.replicas ?? 1} to ${steps.at(-1)?.replicas ?? 1} replicas</h1><p>${escape(heading)}</p>`,
    barChart('Ready: Envoy sees every replica healthy', steps.map((s) => ({ label: `${s.replicas} replicas`, value: s.readyMs / 1000, colour: '#d9822b' })), 's'),
    barChart('Memory of all replicas (RSS)', steps.map((s) => ({ label: `${s.replicas} replicas`, value: s.replicasMb, colour: '#2b7bd9' })), 'MB'),
    barChart('Largest replica (RSS)', steps.map((s) => ({ label: `${s.replicas} replicas`, value: s.largestReplicaMb, colour: '#5a9e4b' })), 'MB'),
    `<pre>${escape(scaleMarkdownOf(steps))}</pre></body></html>`,
  ].join('\n');
}
