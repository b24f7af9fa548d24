# expect: dockerfile-cmd-shell-form at stage[0].CMD[0]
# expect: dockerfile-cmd-shell-form at stage[0].ENTRYPOINT[0]
# expect: dockerfile-cmd-shell-form at stage[0].ONBUILD[0].CMD
FROM nginx:1.27
ONBUILD CMD run
ENTRYPOINT /docker-entrypoint.sh
CMD nginx -g "daemon off;"
