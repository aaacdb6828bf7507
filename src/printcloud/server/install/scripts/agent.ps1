# Installs the PrintCloud agent on Windows, from the PrintCloud server that served this
# script (its address is filled in below). In PowerShell:
#
#   irm __PRINTCLOUD_SERVER__/install/agent.ps1 | iex
#   & ([scriptblock]::Create((irm __PRINTCLOUD_SERVER__/install/agent.ps1))) -ApiKey KEY
#
# It needs Python 3.11 or newer (python.org's installer, with the "py" launcher), makes a
# private Python environment for the agent, installs the agent into it from the server,
# logs this computer in and installs the service that starts the agent with Windows.
# Errors are thrown, never `exit`: run through `iex`, exit would close the window.
param(
    [string]$Prefix = "",
    [string]$Email = "",
    [string]$ApiKey = $env:PRINTCLOUD_API_KEY,
    [string]$Name = "",
    [switch]$NoService,
    [string]$ServiceRoot = ""
)

$ErrorActionPreference = "Stop"
$Server = '__PRINTCLOUD_SERVER__'
$Wheel = '__PRINTCLOUD_WHEEL__'

function Say([string]$Message) { Write-Host "printcloud-agent: $Message" }

function Test-Admin {
    $identity = [Security.Principal.WindowsIdentity]::GetCurrent()
    (New-Object Security.Principal.WindowsPrincipal $identity).IsInRole(
        [Security.Principal.WindowsBuiltInRole]::Administrator)
}

# A Python 3.11 or newer, as the command (and its first arguments) that runs it. The
# "python.exe" that opens the Microsoft Store fails the version check like a missing one.
function Find-Python {
    # A native command's stderr under "Stop" throws in Windows PowerShell 5.1.
    $ErrorActionPreference = "Continue"
    $candidates = @()
    if ($env:PYTHON) { $candidates += , @($env:PYTHON) }
    if (Get-Command py -ErrorAction SilentlyContinue) { $candidates += , @("py", "-3") }
    if (Get-Command python -ErrorAction SilentlyContinue) { $candidates += , @("python") }
    foreach ($candidate in $candidates) {
        $exe = $candidate[0]
        $rest = @($candidate | Select-Object -Skip 1)
        & $exe @rest -c "import sys; sys.exit(sys.version_info < (3, 11))" 2>$null
        if ($LASTEXITCODE -eq 0) { return , $candidate }
    }
    throw ("The PrintCloud agent needs Python 3.11 or newer, and none was found. Install it " +
        "from https://www.python.org/downloads/windows/ (keep `"py launcher`" ticked), " +
        "then run this again (or set `$env:PYTHON to the path of python.exe).")
}

function Invoke-Checked([string]$What, [string]$Exe, [string[]]$Arguments) {
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$What failed (exit code $LASTEXITCODE, see above)" }
}

$admin = Test-Admin
if (-not $Prefix) {
    if ($admin) { $Prefix = Join-Path $env:ProgramData "PrintCloud\agent" }
    else { $Prefix = Join-Path $env:LOCALAPPDATA "PrintCloud\agent" }
}
$Prefix = [IO.Path]::GetFullPath($Prefix)
$venv = Join-Path $Prefix "venv"
$venvPython = Join-Path $venv "Scripts\python.exe"
$printcloud = Join-Path $venv "Scripts\printcloud.exe"
$config = Join-Path $Prefix "agent.json"

$python = Find-Python
$pythonExe = $python[0]
$pythonArgs = @($python | Select-Object -Skip 1)
Say "installing the agent into $Prefix"
New-Item -ItemType Directory -Force -Path $Prefix | Out-Null
if (-not (Test-Path $venvPython)) {
    Invoke-Checked "Making the agent's Python environment" $pythonExe ($pythonArgs + @("-m", "venv", $venv))
}
# The agent's libraries (pywin32, pypdfium2, Pillow among them) come from the package
# index pip is configured with, the agent itself from this server.
Invoke-Checked "Installing the agent" $venvPython @(
    "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade",
    "$Server/install/$Wheel")

# The journal beside the agent, not in the profile of whoever ran the installer.
$login = @("agent", "login", "--server", $Server, "--config", $config, "--data-dir", (Join-Path $Prefix "data"))
if ($Name) { $login += @("--name", $Name) }
if ($ApiKey) {
    # In the environment, not on the command line, where other users could see it.
    $previous = $env:PRINTCLOUD_API_KEY
    $env:PRINTCLOUD_API_KEY = $ApiKey
    try { Invoke-Checked "Logging in" $printcloud $login }
    finally { $env:PRINTCLOUD_API_KEY = $previous }
}
elseif ($Email -or -not (Test-Path $config)) {
    if (-not $Email) { $Email = Read-Host "Your PrintCloud e-mail address" }
    if (-not $Email) { throw "No e-mail address given." }
    Invoke-Checked "Logging in" $printcloud ($login + @("--email", $Email))
}
else {
    Say "keeping the login in $config (give -Email or -ApiKey to log in again)"
}

if ($admin) { $scope = "--system" } else { $scope = "--user" }
function Test-ServiceCommand {
    $ErrorActionPreference = "Continue"
    & $printcloud agent install-service --help *> $null
    $LASTEXITCODE -eq 0
}

if (-not $NoService) {
    if (-not (Test-ServiceCommand)) {
        throw ("The agent is installed and logged in, but this version cannot install its " +
            "service (no 'printcloud agent install-service'). Start it by hand: " +
            "& '$printcloud' agent run --config '$config'")
    }
    $service = @("agent", "install-service", $scope, "--config", $config)
    if ($ServiceRoot) { $service += @("--root", $ServiceRoot) }
    Invoke-Checked "Installing the service" $printcloud $service
}

Say "done. The agent is in $Prefix, its configuration in $config."
if ($NoService) { Say "start it with: & '$printcloud' agent run --config '$config'" }
else { Say "see how it is doing with: & '$printcloud' agent status --config '$config'" }
Say "to remove it: & '$printcloud' agent uninstall-service $scope (if the service is installed), then delete $Prefix"
