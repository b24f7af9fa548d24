FROM ruby:3.3
RUN gem install bundler:2.5.18 && gem install rails -v 7.2.1 && gem install ./pkg.gem
