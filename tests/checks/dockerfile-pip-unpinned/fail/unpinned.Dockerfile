# expect: dockerfile-pip-unpinned at stage[0].RUN[0]
# expect: dockerfile-pip-unpinned at stage[0].RUN[1]
FROM python:3.12
RUN pip install --no-cache-dir flask==3.0.3 requests
RUN python -m pip install --no-cache-dir -i https://pypi.example.com/simple gunicorn
# expect: dockerfile-pip-unpinned at stage[0].RUN[2]
RUN pip install --no-cache-dir git+https://github.com/org/repo.git
