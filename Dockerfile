# Image of the personio-operator, which the Helm chart runs. Build it from the repository root:
#   docker build -t personio-operator:dev .
# tests/chart/test_image.py checks this file against pyproject.toml and the chart.

# Both stages use the same Python image: the virtualenv built in the first runs in the second.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator/personio_operator ./operator/personio_operator
# The operator only, no extras. pip compiles the bytecode here, because the running container cannot
# write it. pip and setuptools then leave the virtualenv: nothing in the image installs software.
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install . \
 && /opt/venv/bin/pip uninstall --yes pip setuptools

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="personio-operator" \
      org.opencontainers.image.description="Keeps an application's users and teams (SCIM 2.0) in step with Personio" \
      org.opencontainers.image.source="https://github.com/personio-operator/personio-operator" \
      org.opencontainers.image.licenses="Apache-2.0"
# The base image's own installers go too.
RUN python -m pip uninstall --yes --no-cache-dir pip setuptools wheel
COPY --from=build /opt/venv /opt/venv
# Only /tmp is writable (the chart mounts an emptyDir there and makes the root filesystem read-only).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TMPDIR=/tmp
# A numeric non-root user, so the kubelet can verify runAsNonRoot (the chart's runAsUser is the same).
USER 65532:65532
WORKDIR /tmp
EXPOSE 8080 9090
ENTRYPOINT ["personio-operator"]
CMD ["run", "--standalone", "--all-namespaces", "--liveness=http://0.0.0.0:8080/healthz"]
