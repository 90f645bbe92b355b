# Redis for the container test, where no registry answers (docker compose users get the redis image):
# Debian's redis-server on the same base as the mock's image. Like redis:7's entrypoint, protected mode
# is turned off whatever the command (docker-compose.yml gives its own), so the replicas can connect.
FROM node:20-bookworm-slim
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server \
  && rm -rf /var/lib/apt/lists/*
USER redis
WORKDIR /tmp
EXPOSE 6379
ENTRYPOINT ["/bin/sh", "-c", "exec \"$@\" --protected-mode no", "redis-entrypoint"]
CMD ["redis-server", "--bind", "0.0.0.0", "--save", "", "--appendonly", "no"]
