FROM debian:12
WORKDIR /src
RUN make && echo "cd is just a word here"
