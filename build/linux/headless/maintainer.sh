# Shell functions shared by the archway package's maintainer scripts (Debian prerm/postrm, RPM
# %preun). scripts/package.mjs pastes this file into each of them, so the .deb and the .rpm say the
# same thing. POSIX sh, no bashisms: dash runs Debian's maintainer scripts.

ARCHWAY_STATE_DIR=/var/lib/archway
ARCHWAY_LOG_DIR=/var/log/archway

# Names of the handlers Archway's record says it registered (keys of "handlers" in state.json).
archway_recorded_handlers() {
	[ -r "$ARCHWAY_STATE_DIR/state.json" ] || return 0
	grep -o '"qemu-[A-Za-z0-9_.-]*"[[:space:]]*:[[:space:]]*{' "$ARCHWAY_STATE_DIR/state.json" 2>/dev/null |
		sed 's/^"\([^"]*\)".*/\1/' | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# Removal keeps everything the user set up: one line saying what stays and how to remove it.
archway_removal_notice() {
	handlers=$(archway_recorded_handlers)
	files=$(ls /etc/binfmt.d/qemu-*.conf 2>/dev/null | tr '\n' ' ' | sed 's/ $//')
	state=none
	[ -e "$ARCHWAY_STATE_DIR" ] && state=$ARCHWAY_STATE_DIR
	echo "archway: left in place: handlers Archway registered (${handlers:-none recorded}), boot-time files (${files:-none}), Archway's records ($state); to remove them, run \`archway uninstall all\` before removing the package."
}

# Purge: Archway's own state only, each path printed before it goes. Handlers stay registered and
# /etc/binfmt.d files stay: they are the user's running and boot-time configuration.
archway_purge_state() {
	for dir in "$ARCHWAY_STATE_DIR" "$ARCHWAY_LOG_DIR"; do
		[ -e "$dir" ] || continue
		echo "archway: purge removes $dir:"
		find "$dir" -mindepth 1 | sort | sed 's/^/  /'
		rm -rf -- "$dir"
	done
	echo "archway: purge left alone: handlers registered in the kernel and /etc/binfmt.d/qemu-*.conf files (to remove them, reinstall archway and run \`archway uninstall all\`)."
}
