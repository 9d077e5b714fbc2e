# STAND-IN for prom/prometheus:v2.42.0, for a machine whose Docker engine reaches no image registry (CI here):
# Debian bookworm's own prometheus package, which is Prometheus 2.42.0, with the official image's user (nobody),
# working directory, entrypoint and CMD. `npm run setup:observability` builds it, tagged exactly as the official
# image, and only when that tag is missing; anywhere else `docker compose` pulls the official image instead.
FROM local/debian:bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /prometheus && chown nobody:nogroup /prometheus \
 && prometheus --version
USER nobody
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
