# expect: dockerfile-go-install-unpinned at stage[0].RUN[0]
# expect: dockerfile-go-install-unpinned at stage[0].RUN[0]
FROM golang:1.23
RUN go install golang.org/x/tools/gopls github.com/go-delve/delve/cmd/dlv@latest
