# syntax=docker/dockerfile:1
# The scheduler image: static vigil, diag and kubectl-diag on an empty base (no shell, no package
# manager, nothing to patch), run as the non-root user 65532, with a CycloneDX SBOM of every Go
# module linked in (/sbom.cdx.json) beside the build information embedded in each binary
# (`go version -m /vigil`).
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) \
#     --build-arg REVISION=$(git rev-parse HEAD) -t vigil:0.1.0 .
#
# GO_IMAGE is the build stage only; pin it by digest in your CI (GO_IMAGE=golang:1.26-bookworm@sha256:...).
# The runtime stage is `scratch`, which has no digest to pin: the image holds only what is copied
# into it below. deploy/deploy_test.go builds the same binaries the same way and checks them.
ARG GO_IMAGE=golang:1.26-bookworm

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
# The version the binaries report (vigil version, vigil_build_info): .git is not in the build
# context, so pass it: --build-arg VERSION=$(git describe --tags --always --dirty).
ARG VERSION=devel
ARG REVISION=
RUN mkdir -p /out && X="-X github.com/vigilhq/vigil/internal/buildinfo" \
 && go build -ldflags="-s -w $X.version=${VERSION} $X.revision=${REVISION}" -o /out/vigil ./cmd/vigil \
 && go build -ldflags="-s -w $X.version=${VERSION} $X.revision=${REVISION}" -o /out/diag ./cmd/diag \
 && go build -ldflags="-s -w $X.version=${VERSION} $X.revision=${REVISION}" -o /out/kubectl-diag ./cmd/kubectl-diag \
 && go run ./cmd/vigil-sbom /out/vigil /out/diag /out/kubectl-diag > /out/sbom.cdx.json \
 && echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin' > /out/passwd \
 && echo 'nonroot:x:65532:' > /out/group

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/passwd /etc/passwd
COPY --from=build /out/group /etc/group
COPY --from=build /out/vigil /vigil
COPY --from=build /out/diag /diag
COPY --from=build /out/kubectl-diag /kubectl-diag
COPY --from=build /out/sbom.cdx.json /sbom.cdx.json
USER 65532:65532
ENV PATH=/
ENTRYPOINT ["/vigil"]
CMD ["run"]
