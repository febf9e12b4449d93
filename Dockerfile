# One image for every chargeflow service; docker-compose.yml picks the command.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY services ./services
RUN pip install --no-cache-dir . && useradd --system chargeflow
USER chargeflow
ENV PYTHONUNBUFFERED=1
CMD ["chargeflow", "--help"]
