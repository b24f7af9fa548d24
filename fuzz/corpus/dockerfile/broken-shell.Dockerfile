FROM a
RUN echo "unterminated
RUN echo $(unterminated
RUN echo ${x
