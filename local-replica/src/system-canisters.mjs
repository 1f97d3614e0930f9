// The parts of the IC's cycles system that tools call on a connected network, as canisters written in JS: the
// cycles minting canister (which subnets new canisters go to) and the cycles ledger (balances and
// `create_canister`), enough for `icp canister create` / `icp deploy` / `icp cycles balance` /
// `icp canister top-up`. Every account starts with DEVELOPMENT_CYCLES, so any identity can create canisters.
// Types follow dfinity/cycles-ledger `cycles-ledger.did` and the CMC's `get_default_subnets`.

import { IDL } from '@icp-sdk/core/candid';
import { Principal } from '@icp-sdk/core/principal';
import { bytesToHex } from '@noble/hashes/utils.js';
import { CanisterError } from './canister.mjs';
import { CanisterSettings, createCanister, depositCycles } from './management.mjs';

export const CYCLES_MINTING_CANISTER_ID = 'rkp4c-7iaaa-aaaaa-aaaca-cai';
export const CYCLES_LEDGER_ID = 'um5iw-rqaaa-aaaaq-qaaba-cai';

/** The balance each cycles-ledger account starts with on this replica. */
export const DEVELOPMENT_CYCLES = 1_000_000_000_000_000n; // 1,000 T
/** The cycles ledger's fee per transaction (its CYCLES_LEDGER_BLOCK_FEE). */
export const CYCLES_LEDGER_FEE = 100_000_000n;
const MAX_SUBACCOUNT_BYTES = 32;
const MAX_ACCOUNTS = 100_000;

const Subaccount = IDL.Opt(IDL.Vec(IDL.Nat8));
const Account = IDL.Record({ owner: IDL.Principal, subaccount: Subaccount });
const SubnetSelection = IDL.Variant({
  Subnet: IDL.Record({ subnet: IDL.Principal }),
  Filter: IDL.Record({ subnet_type: IDL.Opt(IDL.Text) }),
});
const CreateCanisterError = IDL.Variant({
  InsufficientFunds: IDL.Record({ balance: IDL.Nat }),
  TooOld: IDL.Null,
  CreatedInFuture: IDL.Record({ ledger_time: IDL.Nat64 }),
  TemporarilyUnavailable: IDL.Null,
  Duplicate: IDL.Record({ duplicate_of: IDL.Nat, canister_id: IDL.Opt(IDL.Principal) }),
  FailedToCreate: IDL.Record({ fee_block: IDL.Opt(IDL.Nat), refund_block: IDL.Opt(IDL.Nat), error: IDL.Text }),
  GenericError: IDL.Record({ message: IDL.Text, error_code: IDL.Nat }),
});
const RejectionCode = IDL.Variant({
  NoError: IDL.Null, CanisterError: IDL.Null, SysTransient: IDL.Null, DestinationInvalid: IDL.Null,
  Unknown: IDL.Null, SysFatal: IDL.Null, CanisterReject: IDL.Null,
});
const WithdrawError = IDL.Variant({
  GenericError: IDL.Record({ message: IDL.Text, error_code: IDL.Nat }),
  TemporarilyUnavailable: IDL.Null,
  FailedToWithdraw: IDL.Record({ fee_block: IDL.Opt(IDL.Nat), rejection_code: RejectionCode, rejection_reason: IDL.Text }),
  Duplicate: IDL.Record({ duplicate_of: IDL.Nat }),
  BadFee: IDL.Record({ expected_fee: IDL.Nat }),
  InvalidReceiver: IDL.Record({ receiver: IDL.Principal }),
  CreatedInFuture: IDL.Record({ ledger_time: IDL.Nat64 }),
  TooOld: IDL.Null,
  InsufficientFunds: IDL.Record({ balance: IDL.Nat }),
});

const query = (args, results, handler) => ({ args, results, handler, query: true });
const update = (args, results, handler) => ({ args, results, handler, query: false });

/** The cycles ledger: balances per ICRC-1 account, created lazily with DEVELOPMENT_CYCLES. */
function cyclesLedger(replica) {
  const balances = new Map(); // account key -> cycles spent from the development grant or received
  let nextBlock = 0n;
  const accountKey = (owner, subaccount) => {
    const bytes = subaccount?.[0] ?? [];
    if (bytes.length > MAX_SUBACCOUNT_BYTES) throw new CanisterError('IC0503', 5, `Error from Canister ${CYCLES_LEDGER_ID}: subaccount of ${bytes.length} bytes, at most ${MAX_SUBACCOUNT_BYTES}`);
    const padded = new Uint8Array(MAX_SUBACCOUNT_BYTES);
    padded.set(bytes);
    return `${owner.toText()}.${bytesToHex(padded)}`;
  };
  const balanceOf = (key) => balances.get(key) ?? DEVELOPMENT_CYCLES;
  const setBalance = (key, value) => {
    // Bounded: past MAX_ACCOUNTS the oldest account is forgotten (it starts over from the grant).
    if (!balances.has(key) && balances.size >= MAX_ACCOUNTS) balances.delete(balances.keys().next().value);
    balances.set(key, value);
  };
  /**
   * Runs `transaction()` when the caller's account holds `amount` + fee, then takes them from it; a transaction
   * that returns an Err (or throws) takes nothing.
   */
  const spend = (caller, subaccount, amount, transaction) => {
    const key = accountKey(Principal.fromUint8Array(caller), subaccount);
    const balance = balanceOf(key);
    if (balance < amount + CYCLES_LEDGER_FEE) return { Err: { InsufficientFunds: { balance } } };
    const result = transaction();
    if (result.Ok !== undefined) setBalance(key, balance - amount - CYCLES_LEDGER_FEE);
    return result;
  };

  return {
    icrc1_name: query([], [IDL.Text], () => 'Trillion Cycles'),
    icrc1_symbol: query([], [IDL.Text], () => 'TCYCLES'),
    icrc1_decimals: query([], [IDL.Nat8], () => 12),
    icrc1_fee: query([], [IDL.Nat], () => CYCLES_LEDGER_FEE),
    icrc1_balance_of: query([Account], [IDL.Nat], ({ owner, subaccount }) => balanceOf(accountKey(owner, subaccount))),
    create_canister: update([IDL.Record({
      from_subaccount: Subaccount,
      created_at_time: IDL.Opt(IDL.Nat64),
      amount: IDL.Nat,
      creation_args: IDL.Opt(IDL.Record({ settings: IDL.Opt(CanisterSettings), subnet_selection: IDL.Opt(SubnetSelection) })),
    })], [IDL.Variant({ Ok: IDL.Record({ block_id: IDL.Nat, canister_id: IDL.Principal }), Err: CreateCanisterError })],
    ({ from_subaccount: subaccount, amount, creation_args: creation }, caller) => {
      const subnet = creation[0]?.subnet_selection[0]?.Subnet?.subnet;
      if (subnet && subnet.toText() !== replica.keys.subnetId.toText()) {
        return { Err: { FailedToCreate: { fee_block: [], refund_block: [], error: `Subnet ${subnet.toText()} does not exist` } } };
      }
      return spend(caller, subaccount, amount, () => {
        let canister;
        try {
          canister = createCanister(replica, { settings: creation[0]?.settings[0], caller, cycles: amount });
        } catch (e) {
          if (e instanceof CanisterError) return { Err: { FailedToCreate: { fee_block: [], refund_block: [], error: e.message } } };
          throw e;
        }
        return { Ok: { block_id: nextBlock++, canister_id: Principal.fromUint8Array(canister.id) } };
      });
    }),
    withdraw: update([IDL.Record({
      amount: IDL.Nat, from_subaccount: Subaccount, to: IDL.Principal, created_at_time: IDL.Opt(IDL.Nat64),
    })], [IDL.Variant({ Ok: IDL.Nat, Err: WithdrawError })], ({ amount, from_subaccount: subaccount, to }, caller) => {
      const target = replica.canisters.get(to.toText());
      if (!target) return { Err: { InvalidReceiver: { receiver: to } } };
      return spend(caller, subaccount, amount, () => {
        depositCycles(replica, target, amount);
        return { Ok: nextBlock++ };
      });
    }),
  };
}

/** The cycles minting canister: the one subnet of this replica is the default for new canisters. */
function cyclesMintingCanister(replica) {
  return {
    get_default_subnets: query([], [IDL.Vec(IDL.Principal)], () => [replica.keys.subnetId]),
  };
}

/**
 * The system canisters by id text: `{ [method]: { args, results, handler(arg, caller), query } }`. `call` runs
 * a method with Candid bytes in and out, like a canister, and rejects as the IC does.
 */
export function createSystemCanisters(replica) {
  const canisters = new Map([
    [CYCLES_MINTING_CANISTER_ID, cyclesMintingCanister(replica)],
    [CYCLES_LEDGER_ID, cyclesLedger(replica)],
  ]);
  return {
    has: (idText) => canisters.has(idText),
    /** Runs `method`; `asQuery` refuses update methods as the IC refuses them in a query call. */
    call(idText, method, arg, caller, { asQuery }) {
      const entry = canisters.get(idText)?.[method];
      if (!entry || (asQuery && !entry.query)) {
        throw new CanisterError('IC0536', 3, `Error from Canister ${idText}: Canister has no ${asQuery ? 'query' : 'update'} method '${method}'.`);
      }
      let args;
      try {
        args = IDL.decode(entry.args, arg);
      } catch (e) {
        throw new CanisterError('IC0503', 5, `Error from Canister ${idText}: Canister called \`ic0.trap\` with message: failed to decode call arguments: ${e.message}`);
      }
      const result = entry.handler(...args, caller);
      return new Uint8Array(IDL.encode(entry.results, [result]));
    },
  };
}
