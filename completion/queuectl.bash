# bash completion for queuectl                              -*- shell-script -*-
# Installed as share/bash-completion/completions/queuectl. Self-contained: it
# needs no helper from the bash-completion package, so `source` works too.
# Job and worker ids are asked of the broker (--timeout 500ms), so completing
# them never hangs when no broker is running.

_queuectl_commands="enqueue wait logs cancel events watch prune status list show dlq queue schedule config
    worker broker invite join keys keygen dashboard help"
_queuectl_states="pending processing completed failed dead canceled waiting"
_queuectl_config_keys="max-retries backoff-base backoff-max job-timeout retention retry-on-exit no-retry-on-exit"

# Ids from a table the CLI prints (first column, after the header).
_queuectl_query()
{
    local program=$1
    shift
    command -v "$program" >/dev/null 2>&1 || return 0
    "$program" --timeout 500ms --no-color --no-autostart "${_queuectl_global[@]}" "$@" 2>/dev/null |
        awk 'NR > 1 && NF > 1 { print $1 }'
}

# Names of enrolled keys (second column of keys list).
_queuectl_key_names()
{
    command -v "$1" >/dev/null 2>&1 || return 0
    "$1" --timeout 500ms --no-color --no-autostart "${_queuectl_global[@]}" keys list 2>/dev/null |
        awk 'NR > 1 && NF > 2 { print $2 }'
}

_queuectl()
{
    local -a w=()
    local i word cword=0 join=0
    # COMP_WORDBREAKS splits at ':' ("worker:start", "12:00:00Z"): join back.
    for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
        word=${COMP_WORDS[i]}
        if ((${#w[@]} > 0)) && [[ $word == : || $join == 1 ]]; then
            w[${#w[@]} - 1]+=$word
        else
            w+=("$word")
        fi
        [[ $word == : ]] && join=1 || join=0
        ((i == COMP_CWORD)) && cword=$((${#w[@]} - 1))
    done
    local cur=${w[cword]} prev=''
    ((cword > 0)) && prev=${w[cword - 1]}
    # Words up to the last ':' of cur are already on the line.
    local colon_prefix=''
    [[ $cur == *:* ]] && colon_prefix=${cur%"${cur##*:}"}

    # Walk the words before the cursor: global options, command, subcommand.
    local -a _queuectl_global=()
    local command='' sub='' positional=0 dashdash=0 words_started=0
    for ((i = 1; i < cword; i++)); do
        word=${w[i]}
        if [[ -z $command ]]; then
            case $word in
            --broker | --curve-key | --server-key)
                _queuectl_global+=("$word" "${w[i + 1]}")
                ((i++))
                ;;
            --timeout) ((i++)) ;;
            --insecure) _queuectl_global+=("$word") ;;
            -*) ;;
            *:*)
                command=${word%%:*}
                sub=${word#*:}
                ;;
            *) command=$word ;;
            esac
            continue
        fi
        if ((dashdash || words_started)); then
            ((positional++))
            continue
        fi
        case $word in
        --) dashdash=1 ;;
        --broker | --state | --limit | --id | --priority | --max-retries | --delay | --run-at | \
            --timeout | --file | --attempt | --interval | --older-than | --count | --env | --cwd | \
            --retry-on-exit | --no-retry-on-exit | --unique-key | --queue | --queues | --max-running | --after | --cron | --tz | \
            --concurrency | --role | --dir | --listen | --events | --token-file | --web-dir | \
            --curve-key | --server-key | --ttl | --uses | --address | --name)
            ((i++))
            ;;
        -*) ;;
        *)
            case $command in
            worker | dlq | config | broker | queue | schedule | keys)
                if [[ -z $sub ]]; then
                    sub=$word
                    continue
                fi
                ;;
            enqueue)
                # A JSON job or .json file may be followed by flags; other
                # words are the command and end the flags.
                [[ $word == '{'* || $word == *.json ]] || words_started=1
                ;;
            esac
            ((positional++))
            ;;
        esac
    done

    local candidates='' files=0 dirs=0 programs=0
    local common="--json --no-color --broker --help"

    # The value of an option.
    case $prev in
    --state) candidates=$_queuectl_states ;;
    --priority) candidates="high medium low" ;;
    --role) candidates="worker client" ;;
    --file)
        candidates="-"
        files=1
        ;;
    --curve-key | --server-key | --token-file) files=1 ;;
    --dir | --web-dir) dirs=1 ;;
    --id)
        if [[ $command == worker && $sub == stop ]]; then
            candidates=$(_queuectl_query "${w[0]}" worker list)
        else
            return 0
        fi
        ;;
    --cwd)
        compopt -o filenames 2>/dev/null
        candidates=$(compgen -d -- "$cur")
        ;;
    --broker | --timeout | --limit | --max-retries | --delay | --run-at | --attempt | --env | \
        --retry-on-exit | --no-retry-on-exit | --unique-key | --queue | --queues | --max-running | --after | --cron | --tz | \
        --interval | --older-than | --count | --concurrency | --listen | --events | --cursor | \
        --wait-timeout | --ttl | --uses | --address | --name | --db)
        return 0
        ;;
    *)
        if [[ -z $command ]]; then
            if [[ $cur == -* ]]; then
                candidates="--broker --json --no-color --timeout --curve-key --server-key
                    --insecure --no-autostart --help --version"
            elif [[ -n $colon_prefix ]]; then
                candidates="worker:start worker:stop worker:list dlq:list dlq:retry dlq:purge
                    config:get config:set broker:start broker:stop broker:status keys:list
                    keys:revoke"
            else
                candidates=$_queuectl_commands
            fi
        elif [[ $command == enqueue ]] && ((dashdash || words_started)); then
            ((positional == 0)) && programs=1
            files=1
        elif [[ $cur == -* ]]; then
            case $command in
            enqueue)
                candidates="--wait --file --id --priority --max-retries --delay --run-at
                    --timeout --env --cwd --retry-on-exit --no-retry-on-exit --unique-key --queue --after $common --"
                ;;
            wait) candidates="--all --json --help" ;;
            logs) candidates="-f --follow --attempt --help" ;;
            cancel | show) candidates=$common ;;
            events) candidates="--state --workers --json --help" ;;
            watch) candidates="--interval --queue --help" ;;
            prune) candidates="--completed --dead --canceled --older-than $common" ;;
            status) candidates="--queue $common" ;;
            list) candidates="--state --queue --limit --cursor --all --jsonl $common" ;;
            schedule)
                case $sub in
                add) candidates="--cron --tz --skip-if-running --queue --priority --max-retries
                    --timeout --env --cwd --retry-on-exit --no-retry-on-exit --unique-key $common --" ;;
                *) candidates=$common ;;
                esac
                ;;
            queue)
                case $sub in
                set) candidates="--max-running $common" ;;
                *) candidates=$common ;;
                esac
                ;;
            dlq)
                case $sub in
                list) candidates="--limit --cursor --all --jsonl $common" ;;
                purge) candidates="--older-than $common" ;;
                *) candidates=$common ;;
                esac
                ;;
            config) candidates=$common ;;
            worker)
                case $sub in
                start) candidates="--count --concurrency --queues --foreground $common" ;;
                stop) candidates="--id --no-wait --wait-timeout $common" ;;
                *) candidates=$common ;;
                esac
                ;;
            broker)
                case $sub in
                start) candidates="--db $common" ;;
                stop) candidates="--wait-timeout $common" ;;
                *) candidates=$common ;;
                esac
                ;;
            keygen) candidates="--role --dir $common" ;;
            invite) candidates="--role --ttl --uses --address $common" ;;
            join) candidates="--name --json --help" ;;
            keys)
                case $sub in
                list) candidates=$common ;;
                *) candidates="--role $common" ;;
                esac
                ;;
            dashboard)
                candidates="--listen --broker --events --token-file --insecure --web-dir --timeout
                    --curve-key --server-key --broker-insecure --help"
                ;;
            esac
        else
            case $command in
            help) ((positional == 0)) && candidates=$_queuectl_commands ;;
            enqueue)
                # A JSON job, a .json file or the command's first word.
                programs=1
                files=1
                ;;
            wait | logs | show | cancel)
                [[ $command == wait ]] || ((positional == 0)) &&
                    candidates=$(_queuectl_query "${w[0]}" list --limit 200)
                ;;
            dlq)
                if [[ -z $sub ]]; then
                    candidates="list retry purge"
                elif [[ $sub == retry ]] && ((positional == 0)); then
                    candidates=$(_queuectl_query "${w[0]}" dlq list --limit 200)
                fi
                ;;
            config)
                if [[ -z $sub ]]; then
                    candidates="get set"
                elif ((positional == 0)); then
                    candidates=$_queuectl_config_keys
                    [[ $sub == get ]] && candidates+=" all"
                fi
                ;;
            worker) [[ -z $sub ]] && candidates="start stop list" ;;
            broker) [[ -z $sub ]] && candidates="start stop status" ;;
            keys)
                if [[ -z $sub ]]; then
                    candidates="list revoke"
                elif [[ $sub == revoke ]] && ((positional == 0)); then
                    candidates=$(_queuectl_key_names "${w[0]}")
                fi
                ;;
            esac
        fi
        ;;
    esac

    COMPREPLY=()
    local line
    if [[ -n $candidates ]]; then
        while IFS= read -r line; do
            COMPREPLY+=("${line#"$colon_prefix"}")
        done < <(compgen -W "$candidates" -- "$cur")
    fi
    if ((programs)); then
        while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen -c -- "$cur")
    fi
    if ((files || dirs)); then
        compopt -o filenames 2>/dev/null
        local kind=-f
        ((dirs)) && kind=-d
        while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen "$kind" -- "$cur")
    fi
    return 0
}

complete -F _queuectl queuectl

# queuectl-worker: its options (the token of --join is pasted, not completed).
_queuectl_worker()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=''
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    COMPREPLY=()
    case $prev in
    --curve-key | --server-key)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
        return 0
        ;;
    --log-level)
        COMPREPLY=($(compgen -W "debug info warn error" -- "$cur"))
        return 0
        ;;
    --broker | --concurrency | --name | --join) return 0 ;;
    esac
    COMPREPLY=($(compgen -W "--broker --concurrency --name --curve-key --server-key --insecure
        --join --log-level --log-json --help --version" -- "$cur"))
}

complete -F _queuectl_worker queuectl-worker
