# expect: dockerfile-zypper-dist-upgrade at stage[0].RUN[0]
FROM opensuse/leap:15.6
RUN zypper -n dup
