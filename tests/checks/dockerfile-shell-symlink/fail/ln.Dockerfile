# expect: dockerfile-shell-symlink at stage[0].RUN[0]
FROM debian:12
RUN ln -sf /bin/bash /bin/sh
