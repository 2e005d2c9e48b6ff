# The Calipso services (api, scanner, listener) for docker-compose.yml: one image, one command each.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends openssh-client && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/calipso
COPY pyproject.toml README.md ./
COPY core core
COPY stack stack
COPY graphmodel graphmodel
COPY ingest ingest
COPY queries queries
COPY api api
COPY lab lab
COPY calipso calipso
COPY migrations migrations
RUN pip install --no-cache-dir .
USER nobody
ENTRYPOINT ["calipso"]
