# Prints what Event Viewer holds about the eAdm sync task since a given time, as one JSON object,
# for eadm-bot's events command and agent. Runs on Windows PowerShell 5.1 and PowerShell 7,
# locally or through ssh / Invoke-Command.
#   powershell.exe -NoProfile -ExecutionPolicy Bypass -File get-sync-events.ps1 -TaskName "eAdm synkronisering" -Since 2026-11-27T04:59:00Z
# Output: {"OperationalLogEnabled": true, "Events": [...]}, newest first; each event with
# TimeCreated, Id, ProviderName, LogName, LevelDisplayName, Message and Data (the event's named
# EventData, read from its XML, since Message and LevelDisplayName are in the display language).
# Reads Task Scheduler's Operational log for the task and the Application log for the crashes
# of the eAdm client; a service account needs membership of "Event Log Readers" for both.
# No matching events is an empty list; any other error ends with its message on stderr and a
# non-zero exit code.
param(
    [string]$TaskName = 'eAdm synkronisering',
    [string]$Since = '',
    [string]$ProgramName = 'eAdm.Client.exe',
    [int]$MaxEvents = 200
)
$ErrorActionPreference = 'Stop'
# Norwegian messages carry æ, ø and å: print UTF-8, not the console's code page. A host
# without a console (some remoting) refuses the setting; its output is Unicode already.
try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false } catch { }
$operational = 'Microsoft-Windows-TaskScheduler/Operational'
$invariant = [Globalization.CultureInfo]::InvariantCulture

function Get-Events([string]$LogName, [string]$XPath) {
    try {
        @(Get-WinEvent -LogName $LogName -FilterXPath $XPath -MaxEvents $MaxEvents -ErrorAction Stop)
    } catch {
        # "No events were found that match the specified selection criteria." is an answer.
        if ($_.FullyQualifiedErrorId -like 'NoMatchingEventsFound*') { @() } else { throw }
    }
}

function ConvertTo-EventRecord($record) {
    $data = [ordered]@{}
    $xml = [xml]$record.ToXml()
    foreach ($item in @($xml.Event.EventData.Data)) {
        # Unnamed values (.NET Runtime, Application Error) come as plain strings: skipped here,
        # their text is in Message.
        if ($item -is [System.Xml.XmlElement]) {
            $name = $item.GetAttribute('Name')
            if ($name) { $data[$name] = $item.InnerText }
        }
    }
    [pscustomobject]@{
        TimeCreated      = $record.TimeCreated
        Id               = $record.Id
        ProviderName     = $record.ProviderName
        LogName          = $record.LogName
        LevelDisplayName = $record.LevelDisplayName
        Message          = $record.Message
        Data             = [pscustomobject]$data
    }
}

function ConvertTo-XPathLiteral([string]$text) {
    # XPath 1.0 has no escape: a name with an apostrophe goes in double quotes.
    if ($text.Contains("'")) { return '"' + $text + '"' }
    return "'" + $text + "'"
}

try {
    if ($Since) {
        $styles = [Globalization.DateTimeStyles]'AdjustToUniversal, AssumeUniversal'
        $start = [DateTime]::Parse($Since, $invariant, $styles)
    } else {
        $start = (Get-Date).ToUniversalTime().AddDays(-1)
    }
    $time = $start.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", $invariant)
    # Task Scheduler names the task by its path: \eAdm synkronisering in the root folder.
    $path = if ($TaskName.StartsWith('\')) { $TaskName } else { '\' + $TaskName }

    # Whether task history is on; null (not said) when the log's settings cannot be read.
    try {
        $enabled = [bool](Get-WinEvent -ListLog $operational -ErrorAction Stop).IsEnabled
    } catch {
        $enabled = $null
    }
    $taskXPath = "*[System[TimeCreated[@SystemTime>='$time']]] and " +
        "*[EventData[Data[@Name='TaskName']=$(ConvertTo-XPathLiteral $path)]]"
    $crashXPath = "*[System[Provider[@Name='.NET Runtime' or @Name='Application Error' or " +
        "@Name='Windows Error Reporting'] and TimeCreated[@SystemTime>='$time']]]"

    $records = @(Get-Events $operational $taskXPath)
    # The crash events name the program only inside their data: filter on the event's XML.
    $records += @(Get-Events 'Application' $crashXPath |
        Where-Object { $_.ToXml() -like "*$ProgramName*" })
    $events = @($records | Sort-Object -Property TimeCreated -Descending |
        ForEach-Object { ConvertTo-EventRecord $_ })
} catch {
    [Console]::Error.WriteLine($_.Exception.Message)
    exit 1
}
[pscustomobject]@{
    OperationalLogEnabled = $enabled
    Events                = $events
} | ConvertTo-Json -Depth 4 -Compress
