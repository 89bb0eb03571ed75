# Build: a static binary (pure-Go SQLite, no cgo).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/autonomous ./cmd/autonomous

# Run: distroless, non-root, the SQLite file on a volume.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/autonomous /usr/local/bin/autonomous
WORKDIR /data
VOLUME ["/data"]
ENV PORT=8080 DATABASE_URL=sqlite:///data/autonomous.db
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/autonomous"]
CMD ["serve"]
