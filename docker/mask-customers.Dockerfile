# The masking transformer of examples/enterprise (merge-runner/cmd/mask-customers),
# as its DAG's transform task runs it: the command is ["/mask-customers", ...]
# with the run and a read-only catalog login in the environment
# (docs/transformers.md). Pure Go, so a static image without a shell.
# Build from the repository root:
#   docker build -f docker/mask-customers.Dockerfile --build-arg VERSION=v1.0.0 -t datasurface/mask-customers .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/mask-customers ./merge-runner/cmd/mask-customers

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/mask-customers /mask-customers
WORKDIR /home/nonroot
