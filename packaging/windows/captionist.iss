; Inno Setup script: a per-user installer for the PyInstaller one-folder bundle.
;   iscc /DAppVersion=0.1.0 packaging\windows\captionist.iss   (after `make bundle` on Windows)
; Untested here: the build machine runs Linux.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6E3C7E7A-3B1A-4C55-9F1E-7A2C1D0C4A11}
AppName=Captionist
AppVersion={#AppVersion}
AppPublisher=The Captionist developers
DefaultDirName={autopf}\Captionist
DefaultGroupName=Captionist
PrivilegesRequired=lowest
OutputDir=..\..\dist
OutputBaseFilename=Captionist-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\captionist.ico
UninstallDisplayIcon={app}\captionist.exe
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
ArchitecturesInstallIn64BitMode=x64compatible

[Files]
Source: "..\..\dist\captionist\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\Captionist"; Filename: "{app}\captionist.exe"
Name: "{autodesktop}\Captionist"; Filename: "{app}\captionist.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Run]
Filename: "{app}\captionist.exe"; Description: "Start Captionist"; Flags: nowait postinstall skipifsilent
