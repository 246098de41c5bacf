# bash completion: helpers shared by gxkit's tools       -*- shell-script -*-
# Installed beside them as "gxkit-common"; each tool's file sources it.

# cur, prev, words and cword of the caller, with ':' kept inside words
# (tcp:host:port, rtu:/dev/tty...).  bash-completion 2.12 has
# _comp_initialize, older ones _init_completion.
_comp_gxkit_init()
{
	if declare -F _comp_initialize >/dev/null; then
		_comp_initialize -n : -- "$@"
	else
		_init_completion -n :
	fi
}

# File names matching an extglob pattern, under either API.
_comp_gxkit_filedir()
{
	if declare -F _comp_compgen_filedir >/dev/null; then
		_comp_compgen_filedir "$@"
	else
		_filedir "$@"
	fi
}

# map names: shipped maps, then CSV files
_comp_gxkit_maps()
{
	local dirs="${GXKIT_MAPS:-} /usr/local/share/gxkit/maps /usr/share/gxkit/maps" d f names=""
	for d in $dirs; do
		for f in "$d"/*.csv; do
			[[ -e $f ]] && names+=" $(basename "$f" .csv)"
		done
	done
	COMPREPLY=($(compgen -W "$names" -- "$cur"))
	_comp_gxkit_filedir csv
}

# the register names of a map (a CSV file, or a short name), for -r:
# after the last comma of a list
_comp_gxkit_registers()
{
	local f=$1 d names
	if [[ ! -f $f ]]; then
		for d in ${GXKIT_MAPS:-} /usr/local/share/gxkit/maps /usr/share/gxkit/maps; do
			[[ -f $d/$1.csv ]] && { f=$d/$1.csv; break; }
		done
	fi
	[[ -f $f ]] || return
	names=$(awk -F, '/^#/ || !NF { next } !h { h = 1; next } { print $1 }' "$f")
	if [[ $cur == *,* ]]; then
		COMPREPLY=($(compgen -P "${cur%,*}," -W "$names" -- "${cur##*,}"))
	else
		COMPREPLY=($(compgen -W "$names" -- "$cur"))
	fi
}

_comp_gxkit_bus()
{
	if [[ $cur == rtu:* ]]; then
		COMPREPLY=($(compgen -P rtu: -W "$(command ls /dev/ttyUSB* /dev/ttyACM* /dev/ttyS* 2>/dev/null)" -- "${cur#rtu:}"))
	else
		COMPREPLY=($(compgen -W "rtu:/dev/ttyUSB0 tcp:127.0.0.1:502" -- "$cur"))
	fi
}

# The tools that run a command (rss-watch, heap-watch): after "--" every
# word is the command's; true when it completed one (COMPREPLY set).
_comp_gxkit_command_word()
{
	local i
	for ((i = 1; i < cword; i++)); do
		if [[ ${words[i]} == -- ]]; then
			COMPREPLY=($(compgen -c -- "$cur"))
			return 0
		fi
	done
	return 1
}
