; hallclient for Windows 10/11 (64-bit): a per-machine installer.
;
; Build on Windows, after `pyinstaller installer\hallclient.spec` made dist\hallclient
; (installer/README.md, "Windows"):
;     makensis /DVERSION=0.1.0 installer\windows\hallclient.nsi
; Defines, all optional: VERSION, PAYLOAD (the PyInstaller onedir folder), OUTFILE,
; CONFIG_TEMPLATE (installer\config.toml), ICON. Relative paths are from this file's folder.
;
; Install, by hand or unattended (exit code 0 = installed):
;     hallclient-setup-0.1.0.exe /S /SERVER=https://zwfw.example.gov.cn /HALL=330106 /WINDOW=12
;     [/D=C:\Program Files\hallclient]   (must be the last argument)
; - the program goes to $PROGRAMFILES64\hallclient, for every user of the machine;
; - %PROGRAMDATA%\hallclient\config.toml is created from the template on first install; the
;   given /SERVER= /HALL= /WINDOW= values are written into it (only those keys, the rest of an
;   edited file is kept), by the installed program itself: NSIS cannot edit UTF-8 faithfully;
; - Start menu: 政务服务窗口 (the program) and hallclient 自检 (self-test in a console).
; Uninstall: "%ProgramFiles%\hallclient\uninstall.exe" [/S] [/PURGE]. The configuration
; (%PROGRAMDATA%\hallclient) and the local data (%LOCALAPPDATA%\hallclient) are kept unless
; /PURGE is given or the person uninstalling answers yes when asked.

Unicode true
ManifestDPIAware true
RequestExecutionLevel admin
SetCompressor /SOLID lzma

!ifndef VERSION
  !define VERSION "0.0.0"
!endif
!ifndef PAYLOAD
  !define PAYLOAD "..\..\dist\hallclient"
!endif
!ifndef OUTFILE
  !define OUTFILE "..\..\dist\hallclient-setup-${VERSION}.exe"
!endif
!ifndef CONFIG_TEMPLATE
  !define CONFIG_TEMPLATE "..\config.toml"
!endif
!ifndef ICON
  !define ICON "..\icons\hallclient.ico"
!endif

!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\hallclient"
!define STARTMENU "$SMPROGRAMS\hallclient"

!include "MUI2.nsh"
!include "FileFunc.nsh"
!include "LogicLib.nsh"
!include "x64.nsh"
!include "nsDialogs.nsh"

Name "hallclient ${VERSION}"
Caption "政务服务窗口 hallclient ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\hallclient"
InstallDirRegKey HKLM "${UNINST_KEY}" "InstallLocation"
BrandingText "hallclient ${VERSION}"
VIProductVersion "${VERSION}.0"
VIAddVersionKey /LANG=0 "ProductName" "hallclient"
VIAddVersionKey /LANG=0 "FileDescription" "hallclient installer"
VIAddVersionKey /LANG=0 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "LegalCopyright" "hallclient maintainers"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING

Var Server
Var Hall
Var Window
Var Purge
Var ServerField
Var HallField
Var WindowField

!insertmacro MUI_PAGE_DIRECTORY
Page custom CounterPage CounterPageLeave
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "SimpChinese"
!insertmacro MUI_LANGUAGE "English"

LangString NeedX64 ${LANG_SIMPCHINESE} "hallclient 需要 64 位的 Windows 10 或 11。"
LangString NeedX64 ${LANG_ENGLISH} "hallclient needs 64-bit Windows 10 or 11."
LangString PageTitle ${LANG_SIMPCHINESE} "本窗口的配置"
LangString PageTitle ${LANG_ENGLISH} "This counter's configuration"
LangString PageText ${LANG_SIMPCHINESE} "填写平台服务器地址、大厅编码和窗口号。留空的项保留 %PROGRAMDATA%\hallclient\config.toml 中现有的值。"
LangString PageText ${LANG_ENGLISH} "The platform server's URL, the hall code and this counter's window number. Empty fields keep the value in %PROGRAMDATA%\hallclient\config.toml."
LangString ServerLabel ${LANG_SIMPCHINESE} "服务器地址"
LangString ServerLabel ${LANG_ENGLISH} "Server URL"
LangString HallLabel ${LANG_SIMPCHINESE} "大厅编码"
LangString HallLabel ${LANG_ENGLISH} "Hall code"
LangString WindowLabel ${LANG_SIMPCHINESE} "窗口号 (1-999)"
LangString WindowLabel ${LANG_ENGLISH} "Window no. (1-999)"
LangString ConfigFailed ${LANG_SIMPCHINESE} "配置文件未能写入（退出码 $0）：检查 /SERVER= /HALL= /WINDOW= 的值。详情见安装日志。"
LangString ConfigFailed ${LANG_ENGLISH} "The configuration was not written (exit code $0): check the /SERVER= /HALL= /WINDOW= values. The install log has the details."
LangString AskPurge ${LANG_SIMPCHINESE} "同时删除本机的配置（%PROGRAMDATA%\hallclient）和本用户的本机数据（%LOCALAPPDATA%\hallclient）吗？$\r$\n$\r$\n尚未同步到平台的办件会丢失。一般选“否”。"
LangString AskPurge ${LANG_ENGLISH} "Also delete this machine's configuration (%PROGRAMDATA%\hallclient) and this user's local data (%LOCALAPPDATA%\hallclient)?$\r$\n$\r$\nCases not yet synced to the platform would be lost. Usually: No."
LangString ProgramName ${LANG_SIMPCHINESE} "政务服务窗口"
LangString ProgramName ${LANG_ENGLISH} "Service Hall Counter"
LangString SelfTestName ${LANG_SIMPCHINESE} "hallclient 自检"
LangString SelfTestName ${LANG_ENGLISH} "hallclient self-test"

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP "$(NeedX64)" /SD IDOK
    SetErrorLevel 3
    Quit
  ${EndIf}
  SetRegView 64
  SetShellVarContext all
  ${GetParameters} $R0
  ${GetOptions} $R0 "/SERVER=" $Server
  ${GetOptions} $R0 "/HALL=" $Hall
  ${GetOptions} $R0 "/WINDOW=" $Window
  ClearErrors
FunctionEnd

Function CounterPage
  !insertmacro MUI_HEADER_TEXT "$(PageTitle)" ""
  nsDialogs::Create 1018
  Pop $R9
  ${If} $R9 == error
    Abort
  ${EndIf}
  ${NSD_CreateLabel} 0 0 100% 28u "$(PageText)"
  Pop $R8
  ${NSD_CreateLabel} 0 36u 30% 12u "$(ServerLabel)"
  Pop $R8
  ${NSD_CreateText} 32% 34u 68% 12u "$Server"
  Pop $ServerField
  ${NSD_CreateLabel} 0 56u 30% 12u "$(HallLabel)"
  Pop $R8
  ${NSD_CreateText} 32% 54u 68% 12u "$Hall"
  Pop $HallField
  ${NSD_CreateLabel} 0 76u 30% 12u "$(WindowLabel)"
  Pop $R8
  ${NSD_CreateNumber} 32% 74u 20% 12u "$Window"
  Pop $WindowField
  nsDialogs::Show
FunctionEnd

Function CounterPageLeave
  ${NSD_GetText} $ServerField $Server
  ${NSD_GetText} $HallField $Hall
  ${NSD_GetText} $WindowField $Window
FunctionEnd

Section "hallclient" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"
  ; An upgrade replaces the whole runtime, so no file of the old version stays beside the new.
  RMDir /r "$INSTDIR\_internal"
  File /r "${PAYLOAD}\*.*"
  File "/oname=$INSTDIR\config.toml.default" "${CONFIG_TEMPLATE}"
  File "/oname=$INSTDIR\hallclient.ico" "${ICON}"

  ; With SetShellVarContext all, $APPDATA is %PROGRAMDATA%: where hallclient/config.py looks.
  CreateDirectory "$APPDATA\hallclient"
  nsExec::ExecToLog '"$INSTDIR\hallclient-console.exe" --installer-config "$APPDATA\hallclient\config.toml" "$INSTDIR\config.toml.default" --server "$Server" --hall "$Hall" --window "$Window"'
  Pop $0
  ${If} $0 != 0
    DetailPrint "hallclient --installer-config: $0"
    MessageBox MB_ICONSTOP "$(ConfigFailed)" /SD IDOK
    SetErrorLevel 2
    Abort
  ${EndIf}

  CreateDirectory "${STARTMENU}"
  CreateShortcut "${STARTMENU}\$(ProgramName).lnk" "$INSTDIR\hallclient.exe" "" "$INSTDIR\hallclient.ico"
  CreateShortcut "${STARTMENU}\$(SelfTestName).lnk" "$SYSDIR\cmd.exe" '/k ""$INSTDIR\hallclient-console.exe" self-test"' "$INSTDIR\hallclient.ico"

  WriteUninstaller "$INSTDIR\uninstall.exe"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "$(ProgramName) (hallclient)"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "hallclient maintainers"
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\hallclient.ico"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKLM "${UNINST_KEY}" "EstimatedSize" "$0"
SectionEnd

Function un.onInit
  SetRegView 64
  SetShellVarContext all
  StrCpy $Purge 0
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/PURGE" $R1
  ${IfNot} ${Errors}
    StrCpy $Purge 1
  ${EndIf}
FunctionEnd

Section "Uninstall"
  ${If} $Purge != 1
    ; Silent uninstalls (/S) take the default: keep.
    MessageBox MB_YESNO|MB_ICONQUESTION|MB_DEFBUTTON2 "$(AskPurge)" /SD IDNO IDNO keep_data
    StrCpy $Purge 1
    keep_data:
  ${EndIf}

  Delete "${STARTMENU}\*.lnk"
  RMDir "${STARTMENU}"
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\hallclient.exe"
  Delete "$INSTDIR\hallclient-console.exe"
  Delete "$INSTDIR\config.toml.default"
  Delete "$INSTDIR\hallclient.ico"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${UNINST_KEY}"

  ${If} $Purge == 1
    RMDir /r "$APPDATA\hallclient"
    SetShellVarContext current
    RMDir /r "$LOCALAPPDATA\hallclient"
    SetShellVarContext all
  ${EndIf}
SectionEnd
