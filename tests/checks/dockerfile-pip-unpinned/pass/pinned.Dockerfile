FROM python:3.12
RUN pip install --no-cache-dir -r requirements.txt "django>=5,<6" ./wheels/app-1.0-py3-none-any.whl . git+https://example.com/r.git@v1 && pip3 install --no-cache-dir x~=1.2
