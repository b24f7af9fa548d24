FROM python:3.12
RUN pip install --no-cache-dir -r requirements.txt "django>=5,<6" ./wheels/app-1.0-py3-none-any.whl . git+https://example.com/r.git@v1 && pip3 install --no-cache-dir x~=1.2
RUN pip install --no-cache-dir -c constraints.txt flask requests
RUN pip install --no-cache-dir git+https://github.com/org/repo.git@0123abcd
