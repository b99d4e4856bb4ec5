# watchfloor with the distributed extras (Kafka, Faust, RocksDB tables, PostgreSQL driver).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY schemas schemas
COPY producers producers
COPY stream_processors stream_processors
COPY alerts alerts
COPY watchfloor watchfloor
COPY rules rules
# The example news the image publishes is inside the package (builtin:samples/...); /data/inbox is left
# empty for the user's own files (docker-compose mounts ./inbox there).
# Everything runs as `watchfloor` (uid 10001), not root: `serve` listens on a published port. It owns /data only,
# the directories the services write (and the named volumes mounted there start as the image's: owned by it);
# the code and the config stay root's, read-only to it.
RUN pip install --no-cache-dir ".[kafka,rocksdb,postgres,fast]" \
    && useradd --system --uid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin watchfloor \
    && mkdir -p /data/inbox /data/spool /data/alerts /data/outbox /data/faust /data/var \
    && chown -R watchfloor:watchfloor /data
COPY deploy/watchfloor.yaml /etc/watchfloor/watchfloor.yaml
ENV WATCHFLOOR_CONFIG=/etc/watchfloor/watchfloor.yaml WATCHFLOOR_SPOOL_DIR=/data/spool \
    WATCHFLOOR_FAUST_DATADIR=/data/faust
WORKDIR /data
USER watchfloor
ENTRYPOINT ["watchfloor"]
