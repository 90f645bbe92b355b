#!/usr/bin/env bash
# npm run test:container — builds the Docker image and uses it the way users do: port mapping, built-in
# scenarios, a mounted /scenarios folder, `healthcheck` inside the container, a refused invalid scenario,
# a `stop` that completes within 2 s, and the docker-compose.yml topology (Redis + three replicas + the
# round-robin proxy): started from docker-compose.yml itself with `docker compose` or podman-compose
# (examples/compose/offline.yml swaps in locally built images), or, without a compose tool, the same
# services with plain `run` commands on a container network. Uses docker when a Docker engine answers; otherwise podman,
# provisioned by ../shared/tools/container-base.sh (needs root; builds node:20-bookworm-slim locally).
# Ends with one summary line: `container: N passed, M failed`; exit 0 iff nothing failed.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${M365_MOCK_IMAGE:-m365-mock:test}
tag=$$
pass=0
fail=0
containers=()
networks=()
dc=() # the compose command line, once a compose project is up
tmp=$(mktemp -d)

ok() { pass=$((pass + 1)); printf 'ok   %s\n' "$*"; }
bad() { fail=$((fail + 1)); printf 'FAIL %s\n' "$*"; }
check() { # check "description" command...
  local what=$1; shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
cleanup() {
  if [ ${#dc[@]} -gt 0 ]; then "${dc[@]}" down -t 1 >/dev/null 2>&1 || true; fi
  for c in "${containers[@]}"; do $engine rm -f "$c" >/dev/null 2>&1 || true; done
  for n in "${networks[@]}"; do $engine network rm -f "$n" >/dev/null 2>&1 || true; done
  rm -rf "$tmp"
}

if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  engine=docker
  build=(docker build -t "$IMAGE" .)
  build_redis=(docker build -t "$IMAGE-redis" -f examples/compose/redis.Dockerfile examples/compose)
else
  shared=${M365_MOCK_SHARED:-../shared}
  if [ ! -x "$shared/tools/container-base.sh" ]; then
    echo "container: no Docker engine and no $shared/tools/container-base.sh to provision podman" >&2
    echo 'container: 0 passed, 1 failed'
    exit 1
  fi
  eval "$("$shared/tools/container-base.sh")"
  engine=podman
  build=(podman build --pull=never --network host --format docker -t "$IMAGE" .)
  build_redis=(podman build --pull=never --network host --format docker -t "$IMAGE-redis" \
    -f examples/compose/redis.Dockerfile examples/compose)
fi
trap cleanup EXIT

now_ms() { date +%s%3N; }

# GET URL: prints the status code (000 when nothing answers), the body goes to $tmp/body
if command -v curl >/dev/null; then
  get() { curl -s -m 5 -o "$tmp/body" -w '%{http_code}' "$1" 2>/dev/null || true; }
else
  get() {
    node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(5000) })
      .then(async (r) => { require("fs").writeFileSync(process.argv[2], await r.text()); process.stdout.write(String(r.status)); })
      .catch(() => process.stdout.write("000"))' "$1" "$tmp/body"
  }
fi

# start NAME [run options...] [-- CLI args...]: a detached container with 4365 mapped to a free local port
start() {
  local name=$1; shift
  local run_args=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do run_args+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  containers+=("$name")
  # podman without systemd logs that it cannot schedule HEALTHCHECK timers: shown only if run fails
  $engine run -d --name "$name" -p 127.0.0.1::4365 "${run_args[@]}" "$IMAGE" "$@" >/dev/null \
    2>"$tmp/run.err" || { cat "$tmp/run.err" >&2; return 1; }
}

# the image's own HEALTHCHECK reports healthy (podman runs it on demand; docker on its interval)
image_healthcheck() {
  if [ "$engine" = podman ]; then podman healthcheck run "$1" >/dev/null 2>&1; return; fi
  for _ in $(seq 1 40); do
    [ "$(docker inspect -f '{{.State.Health.Status}}' "$1")" = healthy ] && return 0
    sleep 0.5
  done
  return 1
}

# waits for /__admin/health on the container's mapped port; prints the base URL
wait_healthy() {
  local name=$1 hostport url
  for _ in $(seq 1 100); do
    hostport=$($engine port "$name" 4365/tcp 2>/dev/null | head -1 || true)
    if [ -n "$hostport" ]; then
      url="http://${hostport/0.0.0.0/127.0.0.1}"
      if [ "$(get "$url/__admin/health")" = 200 ]; then echo "$url"; return 0; fi
    fi
    [ "$($engine inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" = true ] || break
    sleep 0.2
  done
  $engine logs "$name" >&2 || true
  return 1
}

echo "container: building $IMAGE with $engine"
if "${build[@]}" >"$tmp/build.log" 2>&1; then
  ok "image builds ($engine)"
else
  tail -30 "$tmp/build.log"
  bad "image builds ($engine)"
  echo "container: $pass passed, $fail failed"
  exit 1
fi

config=$($engine image inspect -f '{{.Config.User}} {{json .Config.ExposedPorts}} {{json .Config.Healthcheck}}' "$IMAGE")
check "image runs as the non-root node user, exposes 4365, has a HEALTHCHECK ($config)" \
  grep -q '^node .*4365/tcp.*healthcheck' <<<"$config"
# the build stage compiled the malloc_trim addon (docs/hardening.md): the image runs it
trim=$($engine run --rm --entrypoint node "$IMAGE" -e \
  'process.stdout.write(typeof require("./dist/native/malloc.node").trim())' 2>/dev/null || true)
check "image has the malloc_trim addon (dist/native/malloc.node answers: $trim)" test "$trim" = boolean

# 1. built-in scenarios
c1=m365-mock-test-$tag-builtin
start "$c1"
if url=$(wait_healthy "$c1"); then
  ok "GET /__admin/health → 200 through the port mapping ($url)"
  check 'built-in route GET /v1.0/me → 200' test "$(get "$url/v1.0/me")" = 200
  check 'the dashboard GET /__admin/ui/app.js → 200 (built into the image)' test "$(get "$url/__admin/ui/app.js")" = 200
  check 'readiness line in the container log' \
    grep -q '^m365-mock listening on http://127.0.0.1:4365 (scenarios: ' <<<"$($engine logs "$c1" 2>/dev/null)"
  check 'healthcheck inside the container exits 0' $engine exec "$c1" node dist/cli.js healthcheck
  check "the image's HEALTHCHECK reports healthy" image_healthcheck "$c1"
  check 'the server process runs as uid 1000 (node)' test "$($engine exec "$c1" id -u)" = 1000
  t0=$(now_ms)
  $engine stop -t 10 "$c1" >/dev/null 2>&1
  ms=$(($(now_ms) - t0))
  code=$($engine inspect -f '{{.State.ExitCode}}' "$c1")
  check "stop -t 10 completes within 2 s (${ms} ms) with exit code 0 (got $code)" \
    test "$ms" -lt 2000 -a "$code" = 0
else
  bad 'GET /__admin/health → 200 through the port mapping'
fi

# 2. a mounted scenario folder
mkdir -p "$tmp/scenarios/data"
cat >"$tmp/scenarios/mounted.yaml" <<'YAML'
name: mounted
routes:
  - id: sites
    method: GET
    path: /v1.0/sites/:siteId
    response: { status: 200, bodyFile: data/site.json }
  - id: outage
    method: GET
    path: /v1.0/drives/*
    response: { status: 503, retryAfter: 7 }
YAML
echo '{"id":"contoso.sharepoint.com,1,2","displayName":"Mounted Site"}' >"$tmp/scenarios/data/site.json"
chmod -R a+rX "$tmp/scenarios"
c2=m365-mock-test-$tag-mounted
start "$c2" -v "$tmp/scenarios:/scenarios:ro" -- --scenario /scenarios
if url=$(wait_healthy "$c2"); then
  status=$(get "$url/v1.0/sites/root")
  check "mounted scenario route GET /v1.0/sites/root → 200 with its bodyFile (got $status)" \
    grep -q 'Mounted Site' "$tmp/body"
  check 'mounted scenario route GET /v1.0/drives/x → 503' test "$(get "$url/v1.0/drives/x")" = 503
  check 'only the mounted scenario is loaded' \
    grep -q '(scenarios: mounted)$' <<<"$($engine logs "$c2" 2>/dev/null)"
else
  bad 'container with a mounted /scenarios folder becomes healthy'
fi

# 3. an invalid mounted scenario: exit 2 with file:line:col, like the CLI
printf 'name: broken\nroutes:\n  - id: x\n    path: /v1.0/x\n    colour: red\n' >"$tmp/scenarios/broken.yaml"
chmod a+r "$tmp/scenarios/broken.yaml"
c3=m365-mock-test-$tag-invalid
start "$c3" -v "$tmp/scenarios:/scenarios:ro" -- --scenario /scenarios/broken.yaml
code=$($engine wait "$c3" 2>/dev/null | head -1 || true)
logs=$($engine logs "$c3" 2>&1 || true)
if [ "$code" = 2 ] && grep -q '^/scenarios/broken.yaml:5:5: ' <<<"$logs"; then
  ok 'an invalid scenario stops the container with exit code 2 and file:line:col'
else
  tail -5 <<<"$logs"
  bad "an invalid scenario stops the container with exit code 2 (got $code) and file:line:col"
fi

# 4. docker-compose.yml's topology: Redis, three replicas with --state redis://…, the round-robin proxy
# (examples/compose/proxy.mjs on the node base image)
# send METHOD URL [JSON]: prints the status code
send() {
  curl -s -m 5 -o "$tmp/body" -w '%{http_code}' -X "$1" -H 'content-type: application/json' \
    ${3:+--data "$3"} "$2" 2>/dev/null || true
}
# all N URL STATUS: N requests in a row (one per replica through the proxy) answer STATUS, within 10 s
all() {
  local n=$1 url=$2 want=$3 run=0
  for _ in $(seq 1 100); do
    if [ "$(get "$url")" = "$want" ]; then run=$((run + 1)); else run=0; fi
    [ "$run" -ge "$n" ] && return 0
    sleep 0.1
  done
  return 1
}
# topology LABEL URL: the checks on a topology behind the proxy at URL; returns 1 (after one failed
# check) when the three replicas never answer health, so the caller can show its logs
topology() {
  local how=$1 url=$2 statuses admitted
  if ! all 3 "$url/__admin/health" 200; then
    bad "$how: three replicas answer health through the proxy ($url)"
    return 1
  fi
  ok "$how: three replicas answer health through the proxy ($url)"
  statuses=""
  for _ in $(seq 1 9); do statuses="$statuses $(get "$url/v1.0/me/messages")"; done
  admitted=$(grep -o 200 <<<"$statuses" | wc -l)
  check "$how: 3 replicas behind the proxy admit exactly the limit (5 of 9:$statuses)" \
    test "$admitted" = 5 -a "$(grep -o 429 <<<"$statuses" | wc -l)" = 4
  send POST "$url/__admin/outages" '{"path":"/v1.0/me"}' >/dev/null
  check "$how: an outage started on one replica makes all three answer 503" all 3 "$url/v1.0/me" 503
  send DELETE "$url/__admin/outages" >/dev/null
  check "$how: stopped on one replica, all three answer 200 again" all 3 "$url/v1.0/me" 200
  send POST "$url/__admin/reset" >/dev/null
  check "$how: after a reset on one replica, the limit is whole again (through any replica)" \
    all 5 "$url/v1.0/me/messages" 200
  get "$url/__admin/health" >/dev/null
  check "$how: health says 3 replicas, scenariosConsistent ($(tr -d '\n' <"$tmp/body"))" \
    grep -q '"replicas":3,"scenariosConsistent":true' "$tmp/body"
}
# the compose tool that goes with the engine, if any: the real docker-compose.yml is then started with it
# (M365_MOCK_COMPOSE=0 takes the plain-run path even so)
compose=()
if [ "${M365_MOCK_COMPOSE:-1}" = 0 ]; then :
elif [ "$engine" = docker ] && docker compose version >/dev/null 2>&1; then compose=(docker compose)
elif [ "$engine" = podman ] && command -v podman-compose >/dev/null; then compose=(podman-compose)
fi
chmod a+r examples/compose/throttled.yaml examples/compose/proxy.mjs
if ! "${build_redis[@]}" >"$tmp/build-redis.log" 2>&1; then
  tail -10 "$tmp/build-redis.log"
  bad 'redis image builds (examples/compose/redis.Dockerfile)'
elif [ ${#compose[@]} -gt 0 ]; then
  # docker-compose.yml itself, with examples/compose/offline.yml swapping in the images built here
  # (no registry answers redis:7 in CI) and M365_MOCK_PORT choosing a free host port
  project=m365mocktest$tag
  port=$(node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  dc=("${compose[@]}" -p "$project" -f docker-compose.yml -f examples/compose/offline.yml)
  export MOCK_IMAGE=$IMAGE REDIS_IMAGE=$IMAGE-redis M365_MOCK_PORT=$port
  # a failed `up` shows as the health check failing, with the compose log after it
  "${dc[@]}" up -d >"$tmp/compose.log" 2>&1 || true
  if ! topology "compose (${compose[*]})" "http://127.0.0.1:$port"; then
    tail -20 "$tmp/compose.log" >&2
    "${dc[@]}" logs 2>&1 | tail -20 >&2 || true
  fi
  if "${dc[@]}" down -t 2 >>"$tmp/compose.log" 2>&1; then dc=(); ok 'compose: down removes the topology'
  else tail -10 "$tmp/compose.log" >&2; bad 'compose: down removes the topology'; fi
else
  # no compose tool: the same services, started one `run` at a time on a container network
  net=m365-mock-test-$tag-net
  if ! $engine network create "$net" >/dev/null; then
    bad "network $net created"
  else
    networks+=("$net")
    r=m365-mock-test-$tag-redis
    containers+=("$r")
    $engine run -d --name "$r" --network "$net" "$IMAGE-redis" \
      redis-server --bind 0.0.0.0 --save '' --appendonly no >/dev/null
    for i in 1 2 3; do
      containers+=("m365-mock-test-$tag-mock$i")
      # restart on failure, as in the compose file: a replica started before Redis listens exits 1
      $engine run -d --name "m365-mock-test-$tag-mock$i" --network "$net" --restart on-failure \
        -v "$PWD/examples/compose/throttled.yaml:/scenarios/throttled.yaml:ro" "$IMAGE" \
        --scenario /scenarios/throttled.yaml --state "redis://$r:6379/0" >/dev/null 2>"$tmp/run.err" \
        || cat "$tmp/run.err" >&2
    done
    p=m365-mock-test-$tag-proxy
    containers+=("$p")
    $engine run -d --name "$p" --network "$net" -p 127.0.0.1::4365 \
      -e "UPSTREAMS=m365-mock-test-$tag-mock1:4365,m365-mock-test-$tag-mock2:4365,m365-mock-test-$tag-mock3:4365" \
      -v "$PWD/examples/compose/proxy.mjs:/proxy/proxy.mjs:ro" node:20-bookworm-slim node /proxy/proxy.mjs >/dev/null
    hostport=$($engine port "$p" 4365/tcp | head -1)
    url="http://${hostport/0.0.0.0/127.0.0.1}"
    if ! topology 'compose topology (plain runs)' "$url"; then
      for c in "$r" m365-mock-test-$tag-mock1 "$p"; do $engine logs "$c" 2>&1 | tail -5 >&2; done
    fi
  fi
fi

echo "container: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
