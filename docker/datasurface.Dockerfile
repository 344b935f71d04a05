# The datasurface CLI, as the GitLab CI templates run it: a shell and git
# (the check reads the merge request's base commit, publish pushes), and
# merge-runner for the deploy template's `merge-runner ensure`.
# Build from the repository root:
#   docker build -f docker/datasurface.Dockerfile --build-arg VERSION=v1.0.0 -t datasurface .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/datasurface ./cmd/datasurface \
 && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/merge-runner ./merge-runner

FROM alpine:3.20
RUN apk add --no-cache git ca-certificates \
 && adduser -D -u 10001 datasurface
COPY --from=build /out/datasurface /out/merge-runner /usr/local/bin/
USER datasurface
ENTRYPOINT ["datasurface"]
