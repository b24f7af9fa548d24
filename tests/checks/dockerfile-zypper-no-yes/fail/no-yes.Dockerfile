# expect: dockerfile-zypper-no-yes at stage[0].RUN[0]
FROM opensuse/leap:15.6
RUN zypper install curl=8.6.0 && zypper clean
