FROM python:3.12
RUN pip install --no-cache-dir flask==3.0.3
RUN --mount=type=cache,target=/root/.cache/pip pip install gunicorn==22.0.0
FROM python:3.12
ENV PIP_NO_CACHE_DIR=1
RUN pip install flask==3.0.3
