# The merge-runner, as the generated DAGs run it: the DAG's command is
# ["merge-runner", "run", "--job", "env:DATASURFACE_JOB_SPEC"], so the image
# has no entrypoint, only the binary on the PATH. Pure Go (SQLite included),
# so a static image without a shell.
# Build from the repository root:
#   docker build -f docker/merge-runner.Dockerfile --build-arg VERSION=v1.0.0 -t merge-runner .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/merge-runner ./merge-runner

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/merge-runner /usr/local/bin/merge-runner
# The embedded default catalog and warehouse go to the working directory.
WORKDIR /home/nonroot
