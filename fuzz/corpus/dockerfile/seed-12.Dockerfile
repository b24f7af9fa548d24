FROM debian:12
RUN apt-get install -y --no-install-recommends a=1 && apt-get install --yes --no-install-recommends b=1 && apt-get -qq install --no-install-recommends c=1 && apt-get install -q -q --no-install-recommends d=1
