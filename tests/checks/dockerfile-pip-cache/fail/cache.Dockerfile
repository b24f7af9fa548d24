# expect: dockerfile-pip-cache at stage[0].RUN[0]
FROM python:3.12
RUN pip install flask==3.0.3
