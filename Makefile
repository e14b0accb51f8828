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
# Packaging (`make package`, packaging/): gcc-mingw-w64-x86-64 cross-builds zevdesk.exe with cgo (and windres its
# icon and version); wine64 and wine run it in the packaging tests; dpkg-dev (dpkg-shlibdeps) declares the .deb's
# library dependencies; systemd (systemd-analyze, systemd-sysusers) verifies and installs the gateway unit; zip packs
# the Windows download.
DEB_PACKAGES += gcc-mingw-w64-x86-64 wine64 wine dpkg-dev systemd zip

.PHONY: all deps run build build-headless test vet staticcheck gotest bench screenshots clean package

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
	rm -rf $(BIN) bench.txt $(DIST) $(WIN_SYSO)

## package: dist/ gets the Windows zip (zevdesk.exe, zevdesk-cli.exe, fonts, guide), the desktop .deb (amd64) and the
## gateway .debs (amd64, arm64). Each file is rebuilt only when a source, FyneApp.toml or the commit changed.
VERSION := $(shell sed -n 's/^ *Version *= *"\(.*\)".*/\1/p' FyneApp.toml)
DIST := dist
WIN_SYSO := zz_zevdesk_windows_amd64.syso
WIN_ENV := GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc
WIN_ZIP := $(DIST)/zevdesk-$(VERSION)-windows-amd64.zip
DEBS := $(DIST)/zevdesk_$(VERSION)_amd64.deb $(DIST)/zevdesk-gateway_$(VERSION)_amd64.deb \
	$(DIST)/zevdesk-gateway_$(VERSION)_arm64.deb
# What the binaries are built from (tracked and new files; not deleted ones), and a stamp of the commit and of
# whether the tree is modified, which the binaries carry for --version.
PKG_SOURCES := $(filter-out %_test.go,$(shell git ls-files -co --exclude-standard -- '*.go' go.mod go.sum FyneApp.toml assets 2>/dev/null))
PKG_STAMP := $(DIST)/.commit
# The commit for --version, passed explicitly: Go's own stamp (vcs.revision) is off where GOFLAGS has -buildvcs=false.
COMMIT := $(shell git rev-parse HEAD 2>/dev/null)$(if $(shell git status --porcelain 2>/dev/null),+modified)
PKG_LDFLAGS := -s -w -X github.com/zevdesk/zevdesk/app/cli.Commit=$(or $(COMMIT),unknown)
LIBERATION := /usr/share/fonts/truetype/liberation2

# The headless binaries are pattern-rule intermediates; keep them (the tests run them).
.SECONDARY: $(DIST)/linux-amd64-headless/zevdesk $(DIST)/linux-arm64-headless/zevdesk

package: $(WIN_ZIP) $(DEBS)
	@ls -l $(WIN_ZIP) $(DEBS)

$(PKG_STAMP): FORCE
	@mkdir -p $(DIST); s="$$(git rev-parse HEAD 2>/dev/null) $$(git status --porcelain 2>/dev/null | md5sum)"; \
	echo "$$s" | cmp -s - $@ || echo "$$s" >$@

$(WIN_SYSO): FyneApp.toml assets/icon.png packaging/windows/zevdesk.exe.manifest packaging/winres/main.go
	$(GO) run ./packaging/winres -o $@

$(DIST)/windows/zevdesk.exe: $(PKG_SOURCES) $(PKG_STAMP) $(WIN_SYSO)
	$(WIN_ENV) $(GO) build -ldflags "$(PKG_LDFLAGS) -H=windowsgui" -o $@ .

$(DIST)/windows/zevdesk-cli.exe: $(PKG_SOURCES) $(PKG_STAMP) $(WIN_SYSO)
	$(WIN_ENV) $(GO) build -ldflags "$(PKG_LDFLAGS)" -o $@ .

$(WIN_ZIP): $(DIST)/windows/zevdesk.exe $(DIST)/windows/zevdesk-cli.exe docs/user-guide.md docs/install.md
	rm -rf $(DIST)/zip && mkdir -p $(DIST)/zip/zevdesk/fonts $(DIST)/zip/zevdesk/docs
	cp $(DIST)/windows/zevdesk.exe $(DIST)/windows/zevdesk-cli.exe $(DIST)/zip/zevdesk/
	cp $(LIBERATION)/LiberationSans-Regular.ttf $(LIBERATION)/LiberationSans-Bold.ttf $(DIST)/zip/zevdesk/fonts/
	cp /usr/share/doc/fonts-liberation2/copyright $(DIST)/zip/zevdesk/fonts/LICENSE-LiberationSans.txt
	cp -r docs/user-guide.md docs/install.md docs/images $(DIST)/zip/zevdesk/docs/
	rm -f $@.tmp && cd $(DIST)/zip && zip -qr -X ../$(notdir $@).tmp zevdesk
	mv $@.tmp $@ && rm -rf $(DIST)/zip

$(DIST)/linux-amd64/zevdesk: $(PKG_SOURCES) $(PKG_STAMP)
	$(GO) build -ldflags "$(PKG_LDFLAGS)" -o $@ .

$(DIST)/linux-%-headless/zevdesk: $(PKG_SOURCES) $(PKG_STAMP)
	CGO_ENABLED=0 GOOS=linux GOARCH=$* $(GO) build -ldflags "$(PKG_LDFLAGS)" -o $@ .

$(DIST)/zevdesk_$(VERSION)_amd64.deb: $(DIST)/linux-amd64/zevdesk packaging/deb/build.sh packaging/ch.zevdesk.app.desktop
	packaging/deb/build.sh desktop amd64 $< $(VERSION) $@

$(DIST)/zevdesk-gateway_$(VERSION)_%.deb: $(DIST)/linux-%-headless/zevdesk packaging/deb/build.sh \
		packaging/zevdesk-gateway.service $(wildcard packaging/deb/gateway/*)
	packaging/deb/build.sh gateway $* $< $(VERSION) $@

.PHONY: FORCE
FORCE:
