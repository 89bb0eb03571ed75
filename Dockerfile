# Build: a static binary (pure-Go SQLite, no cgo). .dockerignore keeps .env, keys, data/ and .git
# out of the context.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/autonomous ./cmd/autonomous
# The data directory, made here because the runtime image has no shell: owned by nonroot, so the
# server can create the SQLite file and the setup page can write .env there (a new named volume
# takes this owner).
RUN mkdir -p /out/root/data

# Run: distroless, non-root, the SQLite file on a volume.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/autonomous /usr/local/bin/autonomous
COPY --from=build --chown=65532:65532 /out/root/ /
WORKDIR /data
VOLUME ["/data"]
ENV PORT=8080 DATABASE_URL=sqlite:///data/autonomous.db
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/autonomous"]
CMD ["serve"]
