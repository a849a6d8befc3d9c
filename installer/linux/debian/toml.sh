# Shell functions the maintainer scripts share (build_deb.py pastes this file where the
# config and postinst scripts say "@TOML_FUNCTIONS@"): read and set one key of one section
# of /etc/hallclient/config.toml in place, keeping every other line and comment as it is.
# POSIX sh + awk + grep only: they run on any Debian-family system, before and after unpack.

# toml_get FILE SECTION KEY: the key's value (a string without its quotes), or nothing.
toml_get() {
	[ -f "$1" ] || return 0
	awk -v sect="$2" -v key="$3" '
		/^[ \t]*\[/ { h = $0; sub(/#.*/, "", h); gsub(/[ \t\[\]]/, "", h); insect = (h == sect); next }
		insect && $0 ~ ("^[ \t]*" key "[ \t]*=") {
			v = $0
			sub("^[ \t]*" key "[ \t]*=[ \t]*", "", v)
			if (v ~ /^"/) { sub(/^"/, "", v); sub(/".*$/, "", v) }
			else { sub(/[ \t]*#.*$/, "", v); sub(/[ \t]+$/, "", v) }
			print v
			exit
		}' "$1"
}

# toml_set FILE SECTION KEY TOML_VALUE: replace the key's line, or add it to the end of its
# section (the section to the end of the file), e.g. toml_set F server url '"https://x"'.
toml_set() {
	awk -v sect="$2" -v key="$3" -v val="$4" '
		function emit() { print key " = " val; done = 1 }
		/^[ \t]*\[/ {
			if (insect && !done) emit()
			h = $0; sub(/#.*/, "", h); gsub(/[ \t\[\]]/, "", h); insect = (h == sect)
			print
			next
		}
		insect && !done && $0 ~ ("^[ \t]*" key "[ \t]*=") { emit(); next }
		{ print }
		END { if (!done) { if (!insect) { print ""; print "[" sect "]" } emit() } }' "$1" >"$1.hallclient-new" &&
		cat "$1.hallclient-new" >"$1" && rm -f "$1.hallclient-new"
}

# What the installers accept (the same rules as hallclient/config.py, narrowed to what is safe
# to pass through debconf, TOML and a shell without quoting).
valid_server() { printf '%s' "$1" | grep -Eq '^https?://[^[:space:]"\\]+$'; }
valid_hall() { printf '%s' "$1" | grep -Eq '^[A-Za-z0-9_.-]{1,32}$'; }
valid_window() { printf '%s' "$1" | grep -Eq '^[1-9][0-9]{0,2}$'; }
