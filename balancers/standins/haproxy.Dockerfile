# STAND-IN for the official haproxy:2.6.12 image, for machines that reach no image registry (built by
# `npm run setup:standins` only when the tag is missing; anywhere else Docker pulls the official image). Same tag,
# user (haproxy 99:99), entrypoint, CMD and stop signal; the HAProxy inside is Debian bookworm's 2.6.12, the very
# build the scorecard runs as a local process.
FROM local/debian:bookworm
# The package makes its own system user; it is then given the official image's ids (adduser keeps 99 for itself).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/* \
 && groupmod --gid 99 haproxy && usermod --uid 99 --gid 99 haproxy && chown -R haproxy:haproxy /var/lib/haproxy \
 && haproxy -v | grep -q 'version 2.6.12' \
 && mkdir -p /usr/local/etc/haproxy && cp /etc/haproxy/haproxy.cfg /usr/local/etc/haproxy/haproxy.cfg
COPY docker-entrypoint.sh /docker-entrypoint.sh
USER haproxy
WORKDIR /var/lib/haproxy
STOPSIGNAL SIGUSR1
ENTRYPOINT ["/docker-entrypoint.sh"]
CMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
