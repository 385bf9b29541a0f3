# The tracegraph API image (used by docker-compose.yml with Neo4j 5).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY tracegraph ./tracegraph
RUN pip install . \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin tracegraph \
    && mkdir -p /data && chown tracegraph:tracegraph /data

USER tracegraph
WORKDIR /data
ENV TRACEGRAPH_DATA_DIR=/data
EXPOSE 8000
CMD ["tracegraph", "serve", "--host", "0.0.0.0", "--port", "8000"]
