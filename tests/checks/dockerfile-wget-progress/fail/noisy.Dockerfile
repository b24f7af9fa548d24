# expect: dockerfile-wget-progress at stage[0].RUN[0]
FROM debian:12
RUN wget https://example.com/big.iso
