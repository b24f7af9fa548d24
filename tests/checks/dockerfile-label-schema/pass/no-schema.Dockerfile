FROM debian:12
LABEL anything=goes
