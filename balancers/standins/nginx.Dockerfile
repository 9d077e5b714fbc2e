# STAND-IN for the official nginx:1.22.1 image, for machines that reach no image registry (built by
# `npm run setup:standins` only when the tag is missing; anywhere else Docker pulls the official image). Same tag,
# user (nginx 101:101), entrypoint and CMD; the nginx inside is Debian bookworm's nginx-light 1.22.1, the very
# build the scorecard runs as a local process, instead of nginx.org's package on Debian bullseye.
FROM local/debian:bookworm
RUN groupadd --system --gid 101 nginx \
 && useradd --system --uid 101 --gid nginx --no-create-home --home-dir /nonexistent --shell /bin/false nginx \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx-light \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default \
 && nginx -v 2>&1 | grep -q 'nginx/1.22.1' \
 && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
COPY docker-entrypoint.sh /docker-entrypoint.sh
EXPOSE 80
STOPSIGNAL SIGQUIT
ENTRYPOINT ["/docker-entrypoint.sh"]
CMD ["nginx", "-g", "daemon off;"]
