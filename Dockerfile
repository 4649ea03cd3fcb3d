# The static gatewatch image: built with the Go toolchain, run as the
# non-root user of a distroless base (no shell, no package manager).
#
#   docker build -t gatewatch .                      # the gatewatch binary
#   docker build --target backend -t gatewatch-demo-backend .
#
# The compose stack (docker-compose.yml) also builds the demo's backend and
# PagerDuty stand-in from here (targets backend and pagerduty).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
ENV CGO_ENABLED=0
RUN go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" -o /out/gatewatch ./cmd/gatewatch \
 && go build -trimpath -ldflags "-s -w" -o /out/backend ./deploy/compose/backend \
 && go build -trimpath -ldflags "-s -w" -o /out/pagerduty ./deploy/compose/pagerduty \
 && mkdir -p /out/state

FROM gcr.io/distroless/static:nonroot AS backend
COPY --from=build /out/backend /backend
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/backend"]

FROM gcr.io/distroless/static:nonroot AS pagerduty
COPY --from=build /out/pagerduty /pagerduty
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/pagerduty"]

# The default target, last: gatewatch itself.
FROM gcr.io/distroless/static:nonroot AS gatewatch
COPY --from=build /out/gatewatch /gatewatch
# The checkpoint folder belongs to the non-root user, so that a new volume
# mounted there is writable.
COPY --from=build --chown=65532:65532 /out/state /var/lib/gatewatch
USER 65532:65532
EXPOSE 9145
ENTRYPOINT ["/gatewatch"]
CMD ["--help"]
