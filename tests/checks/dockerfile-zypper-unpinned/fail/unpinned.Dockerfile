# expect: dockerfile-zypper-unpinned at stage[0].RUN[0]
FROM opensuse/leap:15.6
RUN zypper install -y curl && zypper clean
