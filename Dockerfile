# One image for every chargeflow service; docker-compose.yml picks the command.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY auction ./auction
COPY services ./services
COPY examples ./examples
# numba compiles the auction's network simplex; its cache must be writable by the service
# user, and is warmed here so no container pays the compile time at its first clearing.
ENV PYTHONUNBUFFERED=1 NUMBA_CACHE_DIR=/var/cache/chargeflow/numba
RUN pip install --no-cache-dir . \
    && useradd --system chargeflow \
    && mkdir -p "$NUMBA_CACHE_DIR" && chown chargeflow "$NUMBA_CACHE_DIR"
USER chargeflow
RUN chargeflow auction clear examples/instance.json > /dev/null
CMD ["chargeflow", "--help"]
