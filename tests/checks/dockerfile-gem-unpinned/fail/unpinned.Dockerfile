# expect: dockerfile-gem-unpinned at stage[0].RUN[0]
FROM ruby:3.3
RUN gem install bundler:2.5.18 rails
