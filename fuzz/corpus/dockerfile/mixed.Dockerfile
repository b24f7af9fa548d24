ARG X=${Y:-z}
FROM ${X} AS a
HEALTHCHECK --interval=1s CMD ["true"]
CMD ["a", "\u00e9"]
ENV A=1 B="c d" E=f\ g
LABEL "k"="v"
EXPOSE 1-2/udp
RUN f() { ls; }; for i in 1 2; do echo $i; done; while read l; do :; done < /f; $(echo `uname`)
