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
RUN pip install --no-cache-dir ".[kafka,rocksdb,postgres,fast]" && mkdir -p /data/inbox /data/spool /data/alerts
COPY deploy/watchfloor.yaml /etc/watchfloor/watchfloor.yaml
ENV WATCHFLOOR_CONFIG=/etc/watchfloor/watchfloor.yaml WATCHFLOOR_SPOOL_DIR=/data/spool \
    WATCHFLOOR_FAUST_DATADIR=/data/faust
WORKDIR /data
ENTRYPOINT ["watchfloor"]
