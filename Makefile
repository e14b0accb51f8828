# zevdesk: `make run` opens the desktop app on a demo site, `make test` runs every check.
# Everything but the desktop binary (package main with cgo) builds and tests without cgo or a display.

SHELL := /bin/bash
GO ?= go
BIN := bin

# Debian packages: cgo + GL/X11 headers for Fyne's desktop driver; sqlite3 for the storage comparison benchmark;
# poppler-utils (pdftotext, pdftoppm) for invoice tests; zbar-tools (zbarimg) to read the QR-bill back as ZBar-based
# scanning apps do; xvfb, xauth, xdotool and imagemagick for screenshots of the real window; fonts-liberation2 for the
# QR-bill payment part; iproute2 and util-linux for mDNS tests in a network namespace; libreoffice-calc-nogui to check
# that workbooks open in LibreOffice; chromium for the resident web view's browser tests (app/web, with chromedp);
# postgresql for the PostgreSQL store's tests, which start a server of their own (initdb, pg_ctl; runuser from
# util-linux when run as root); ca-certificates and git for go modules.
DEB_PACKAGES := gcc libc6-dev pkg-config libgl-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev \
	libxi-dev libxxf86vm-dev sqlite3 poppler-utils zbar-tools xvfb xauth xdotool imagemagick fonts-liberation2 \
	iproute2 util-linux libreoffice-calc-nogui chromium postgresql ca-certificates git

.PHONY: all deps run build build-headless test vet staticcheck gotest bench screenshots clean

all: build

## deps: install the missing Debian packages (as root), or print the apt-get line to run.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; \
	elif [ "$$(id -u)" = 0 ]; then echo "deps: installing" $$missing; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq >/dev/null && apt-get install -y -qq $$missing >/dev/null || exit 1; \
	else echo "deps: missing Debian packages; run:"; echo "  sudo apt-get install -y" $$missing; exit 1; fi
	@$(GO) mod download

## run: build the desktop app and open it on the demo site (a fresh machine: this does everything).
run: deps
	$(GO) run . --db "$${ZEVDESK_DEMO_DB:-$$HOME/.cache/zevdesk/demo.db}" demo

## build: the desktop binary, and the headless arm64 binary (gateway, serve, CLI) for a Raspberry Pi.
build: deps
	$(GO) build -o $(BIN)/zevdesk .
	$(MAKE) build-headless

build-headless:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -o $(BIN)/zevdesk-linux-arm64 .
	CGO_ENABLED=0 $(GO) build -o $(BIN)/zevdesk-headless .

## test: vet, staticcheck and every test with the race detector, including network-namespace and Xvfb tests.
test: deps vet staticcheck gotest

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) tool staticcheck ./...

gotest:
	$(GO) test -race -timeout 30m ./...

## bench: every benchmark, with the SQLite comparison, as a table (also written to bench.txt).
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 -timeout 60m ./... | tee bench.txt

## screenshots: the real window on the demo site under Xvfb, every tab in English and German, into docs/images
## (docs/images/de). Not part of test, which takes the same path into a temporary folder.
screenshots: deps
	$(GO) test -count=1 -run '^TestScreenshots$$' -timeout 15m . -args -screenshots "$(CURDIR)/docs/images"

clean:
	rm -rf $(BIN) bench.txt
