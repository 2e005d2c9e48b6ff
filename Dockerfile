# The Calipso services (api, worker, scheduler, listener, projector) for docker-compose.yml: one image, one
# command each. The lab and the local stack (lab/, stack/) are for development and tests: not shipped, and
# the `calipso` command line has no lab, stack or demo commands without them.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends openssh-client && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/calipso
COPY pyproject.toml README.md ./
COPY core core
COPY graphmodel graphmodel
COPY ingest ingest
COPY queries queries
COPY api api
COPY calipso calipso
COPY migrations migrations
RUN pip install --no-cache-dir .
USER nobody
ENTRYPOINT ["calipso"]
