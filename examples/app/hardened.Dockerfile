# The same image, hardened: pinned base, no secrets in layers, non-root.
FROM python:3.12.8-slim-bookworm AS build
WORKDIR /src
COPY requirements.txt ./
RUN --mount=type=secret,id=pip,target=/etc/pip.conf \
    pip install --no-cache-dir --require-hashes --target /deps -r requirements.txt

FROM python:3.12.8-slim-bookworm
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /deps /deps
COPY app/ /app/
ENV PYTHONPATH=/deps
EXPOSE 8000
USER 10001
CMD ["python", "-m", "gunicorn", "-b", "0.0.0.0:8000", "app:app"]
