# Prints the eAdm sync task as one JSON object, for eadm-bot's `task` source and agent.
# Runs on Windows PowerShell 5.1 and PowerShell 7, locally or through ssh / Invoke-Command.
#   powershell.exe -NoProfile -ExecutionPolicy Bypass -File get-sync-task.ps1 -TaskName "eAdm synkronisering"
# A task that does not exist ends with Get-ScheduledTask's own error and a non-zero exit code.
param(
    [string]$TaskName = 'eAdm synkronisering'
)
$ErrorActionPreference = 'Stop'
try {
    $task = @(Get-ScheduledTask -TaskName $TaskName)[0]
    $info = $task | Get-ScheduledTaskInfo
} catch {
    [Console]::Error.WriteLine($_.Exception.Message)
    exit 1
}
# Select the fields first: a CIM object piped straight to ConvertTo-Json also prints its
# housekeeping (CimClass, CimInstanceProperties, ...).
[pscustomobject]@{
    TaskName           = $task.TaskName
    TaskPath           = $task.TaskPath
    State              = [int]$task.State
    LastRunTime        = $info.LastRunTime
    NextRunTime        = $info.NextRunTime
    LastTaskResult     = $info.LastTaskResult
    NumberOfMissedRuns = $info.NumberOfMissedRuns
} | ConvertTo-Json -Compress
