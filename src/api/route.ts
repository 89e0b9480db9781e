import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { Role } from './auth.ts';

/** A response of an operation, as the OpenAPI document shows it. */
export interface ResponseDoc {
  description: string;
  /** Media type → schema (a JSON Schema, or `{ $ref }` to a component). */
  content?: Record<string, Record<string, unknown>>;
  headers?: Record<string, { description: string; schema: Record<string, unknown> }>;
}

/** Who may call a route: anyone ("open": health, metrics, the document), readers, or a token role. */
export type Access = 'open' | 'read' | Exclude<Role, 'read'>;

/** What a handler receives: the validated parameters and body. */
export interface RouteInput<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  params: z.output<P>;
  query: z.output<Q>;
  body: z.output<B>;
  /** The name of the token that called, when one did. */
  caller: string | undefined;
}

/**
 * One operation of the API. The app registers it with express and the OpenAPI document is written from
 * the same object: path, parameters (from the zod schemas), body schema, access and responses.
 */
export interface RouteSpec<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> {
  method: 'get' | 'post';
  /** Express path syntax: `/v1/alerts/:candid`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  access: Access;
  /** Also answers HEAD (express sends GET routes HEAD requests; the document lists it). */
  head?: boolean;
  params?: P;
  query?: Q;
  body?: B;
  responses: Record<string, ResponseDoc>;
  handle(input: RouteInput<P, Q, B>, req: Request, res: Response): void | Promise<void>;
}

/** Any route, with its types erased (the list the app registers). */
export type AnyRoute = RouteSpec<z.ZodType, z.ZodType, z.ZodType>;

/** Declares a route; the generic parameters type the handler's input from its schemas. */
export function route<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType>(
  spec: RouteSpec<P, Q, B>,
): AnyRoute {
  return spec as unknown as AnyRoute;
}

/** `/v1/alerts/:candid` → `/v1/alerts/{candid}` (OpenAPI path templating). */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z_$][A-Za-z0-9_$]*)/g, '{$1}');
}
