# bash completion for xredirctl; the Makefile puts above this the word
# lists `xredirctl --doc bash` prints from its tables (_xredirctl_flags,
# _xredirctl_value, _xredirctl_words).

_xredirctl_values()
{
	case $1 in
	@FILE) compgen -f -- "$2" ;;
	@DIR) compgen -d -- "$2" ;;
	@IFACE) compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$2" ;;
	@*) ;;
	*) compgen -W "$1" -- "$2" ;;
	esac
}

# shellcheck disable=SC2154 # _xredirctl_flags: in the generated part
_xredirctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd='' values words i

	if [ "$COMP_CWORD" -gt 1 ] && values=$(_xredirctl_value "$prev"); then
		mapfile -t COMPREPLY < <(_xredirctl_values "$values" "$cur")
		return
	fi
	# The command words so far ("rule", "rule add"), global options and
	# their values skipped.
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) _xredirctl_value "${COMP_WORDS[i]}" >/dev/null && i=$((i + 1)) ;;
		*)
			words=$(_xredirctl_words "${cmd:+$cmd }${COMP_WORDS[i]}") ||
				break
			[ -n "$words" ] || break
			cmd=${cmd:+$cmd }${COMP_WORDS[i]}
			case $words in -*) break ;; esac
			;;
		esac
	done
	words=$(_xredirctl_words "$cmd")
	case $cur in
	-*) words="$_xredirctl_flags $words" ;;
	*)
		case $words in
		-*) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
		esac
		;;
	esac
	mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
}
complete -F _xredirctl xredirctl
