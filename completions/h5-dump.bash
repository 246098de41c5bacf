# bash completion for h5-dump(1)                           -*- shell-script -*-

declare -F _comp_gxkit_init >/dev/null ||
	source "${BASH_SOURCE[0]%/*}/gxkit-common" 2>/dev/null ||
	source "${BASH_SOURCE[0]%/*}/gxkit-common.bash"

# The groups of the recording already on the line, from h5-dump itself.
_comp_h5_dump_groups()
{
	local file=$1
	[[ -r $file ]] || return
	COMPREPLY=($(compgen -W "$(h5-dump -q -f jsonl "$file" 2>/dev/null |
		sed -n 's/.*"path":"\([^"]*\)","kind":"group".*/\1/p')" -- "$cur"))
}

_comp_cmd_h5_dump()
{
	local cur prev words cword
	_comp_gxkit_init "$@" || return

	case $prev in
	-f | --format)
		COMPREPLY=($(compgen -W "jsonl csv tree" -- "$cur"))
		return ;;
	--delimiter)
		COMPREPLY=($(compgen -W ", ; tab |" -- "$cur"))
		return ;;
	-d | --dataset | --from | --to | --every | --downsample)
		return ;;
	--deadline | --tag)
		COMPREPLY=($(compgen -W "0 10s 1m" -- "$cur"))
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "--format --delimiter --dataset --raw
			--from --to --index --every --downsample --minmax --stats
			--check --progress --deadline --tag --help --usage --version --quiet
			--verbose" -- "$cur"))
		return
	fi
	local i file=
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-f | --format | --delimiter | -d | --dataset | --from | --to | \
			--every | --downsample) ((i++)) ;;
		-*) ;;
		*) file=${words[i]}; break ;;
		esac
	done
	if [[ -n $file ]]; then
		_comp_h5_dump_groups "$file"
	else
		_comp_gxkit_filedir '@(h5|hdf5|hdf)'
	fi
}
complete -F _comp_cmd_h5_dump h5-dump
